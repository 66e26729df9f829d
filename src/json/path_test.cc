#include "json/path.h"

#include <gtest/gtest.h>

#include <string>

#include "json/parse.h"
#include "json/serialize.h"

namespace shoal::json {
namespace {

// Goessner's bookstore, the example of most JSONPath documentation.
constexpr std::string_view kStore = R"({"store":{"book":[
  {"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},
  {"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},
  {"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3",
   "price":8.99},
  {"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings",
   "isbn":"0-395-19395-8","price":22.99}],
  "bicycle":{"color":"red","price":19.95}}})";

// The inventory document of RedisJSON's path documentation.
constexpr std::string_view kInventory =
    R"({"inventory":{"headphones":[{"id":12345,"name":"Noise-cancelling Bluetooth headphones","description":"Wireless Bluetooth headphones with noise-cancelling technology","wireless":true,"connection":"Bluetooth","price":99.98,"stock":25,"free-shipping":false,"colors":["black","silver"]},{"id":12346,"name":"Wireless earbuds","description":"Wireless Bluetooth in-ear headphones","wireless":true,"connection":"Bluetooth","price":64.99,"stock":17,"free-shipping":false,"colors":["black","white"]},{"id":12347,"name":"Mic headset","description":"Headset with built-in microphone","wireless":false,"connection":"USB","price":35.01,"stock":28,"free-shipping":false}],"keyboards":[{"id":22345,"name":"Wireless keyboard","description":"Wireless Bluetooth keyboard","wireless":true,"connection":"Bluetooth","price":44.99,"stock":23,"free-shipping":false,"colors":["black","silver"]},{"id":22346,"name":"USB-C keyboard","description":"Wired USB-C keyboard","wireless":false,"connection":"USB-C","price":29.99,"stock":30,"free-shipping":false}]}})";

// Evaluates `path` on `doc` and returns the matches as one JSON array (JSON.GET's shape).
std::string Get(std::string_view doc, std::string_view path) {
  Result<Value> v = Parse(doc);
  if (!v.ok()) return "bad doc: " + v.status().message();
  Result<Path> p = Path::Parse(path);
  if (!p.ok()) return "error: " + p.status().message();
  std::string out = "[";
  bool first = true;
  for (const Value* m : Select(*p, *v)) {
    if (!first) out += ",";
    first = false;
    AppendJson(*m, &out);
  }
  return out + "]";
}

std::string ParseError(std::string_view path) {
  Result<Path> p = Path::Parse(path);
  return p.ok() ? "ok" : p.status().message();
}

TEST(JsonPath, GoessnerBookstore) {
  EXPECT_EQ(Get(kStore, "$.store.book[*].author"),
            R"(["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"])");
  EXPECT_EQ(Get(kStore, "$..author"),
            R"(["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"])");
  EXPECT_EQ(Get(kStore, "$.store.*"),
            Get(kStore, "$.store.book").substr(0, Get(kStore, "$.store.book").size() - 1) + "," +
                R"({"color":"red","price":19.95}])");
  EXPECT_EQ(Get(kStore, "$.store..price"), "[8.95,12.99,8.99,22.99,19.95]");
  EXPECT_EQ(Get(kStore, "$..book[2].title"), R"(["Moby Dick"])");
  EXPECT_EQ(Get(kStore, "$..book[-1].title"), R"(["The Lord of the Rings"])");
  EXPECT_EQ(Get(kStore, "$..book[-1:].title"), R"(["The Lord of the Rings"])");
  EXPECT_EQ(Get(kStore, "$..book[0,1].title"), R"(["Sayings of the Century","Sword of Honour"])");
  EXPECT_EQ(Get(kStore, "$..book[:2].title"), R"(["Sayings of the Century","Sword of Honour"])");
  EXPECT_EQ(Get(kStore, "$..book[?(@.isbn)].title"), R"(["Moby Dick","The Lord of the Rings"])");
  EXPECT_EQ(Get(kStore, "$..book[?(@.price<10)].title"),
            R"(["Sayings of the Century","Moby Dick"])");
  EXPECT_EQ(Get(kStore, "$..book[?(@.price < 10 && @.category == \"fiction\")].title"),
            R"(["Moby Dick"])");
  EXPECT_EQ(Get(kStore, "$..book[?(@.price > 20 || @.category == 'reference')].title"),
            R"(["Sayings of the Century","The Lord of the Rings"])");
  EXPECT_EQ(Get(kStore, "$..book[?(@.author =~ 'Mel')].title"), R"(["Moby Dick"])");
  EXPECT_EQ(Get(kStore, "$..book[?(@.price > $.store.bicycle.price)].title"),
            R"(["The Lord of the Rings"])");
}

TEST(JsonPath, RedisJsonDocExamples) {
  EXPECT_EQ(Get(kInventory, "$.inventory.headphones[*].name"),
            R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds","Mic headset"])");
  EXPECT_EQ(Get(kInventory, R"($.inventory["headphones"][*].name)"),
            R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds","Mic headset"])");
  EXPECT_EQ(Get(kInventory, "$..headphones[*].name"),
            R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds","Mic headset"])");
  EXPECT_EQ(
      Get(kInventory, "$..name"),
      R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds","Mic headset","Wireless keyboard","USB-C keyboard"])");
  EXPECT_EQ(Get(kInventory, "$..headphones[0:2].name"),
            R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds"])");
  EXPECT_EQ(Get(kInventory, "$..headphones[?(@.price<70&&@.wireless==true)].id"), "[12346]");
  EXPECT_EQ(Get(kInventory, R"($.inventory.*[?(@.connection=="Bluetooth")].name)"),
            R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds","Wireless keyboard"])");
  EXPECT_EQ(Get(kInventory, R"($.inventory.keyboards[?(@.connection =~ "(?i)usb")].id)"),
            "[22346]");
  EXPECT_EQ(Get(kInventory, "$.inventory.*[?(@.price>49)].name"),
            R"(["Noise-cancelling Bluetooth headphones","Wireless earbuds"])");
  EXPECT_EQ(Get(kInventory, "$..headphones[0].colors"), R"([["black","silver"]])");
  EXPECT_EQ(Get(kInventory, "$.inventory.*[?(@.free-shipping==false)].id"),
            "[12345,12346,12347,22345,22346]");
}

TEST(JsonPath, RegexAgainstAPathValue) {
  std::string doc =
      R"({"k":[{"c":"Bluetooth","p":"(?i)bluetooth"},{"c":"USB-C","p":"usb"},{"c":"x"}]})";
  EXPECT_EQ(Get(doc, "$.k[?(@.c =~ @.p)].c"), R"(["Bluetooth"])");
  EXPECT_EQ(Get(doc, "$.k[?(@.c =~ 'B')].c"), R"(["Bluetooth","USB-C"])");
  EXPECT_EQ(Get(doc, "$.k[?(@.c =~ '^B')].c"), R"(["Bluetooth"])");
  EXPECT_EQ(Get(doc, "$.k[?(@.c =~ '(')].c"), "[]");           // invalid regex: no match
  EXPECT_EQ(Get(R"([1,"1"])", "$[?(@ =~ '1')]"), R"(["1"])");  // non-strings never match
}

TEST(JsonPath, WildcardsAndRecursiveDescent) {
  std::string doc = R"(["string",42,{"key":"value"},[0,1]])";
  EXPECT_EQ(Get(doc, "$.*"), doc);
  EXPECT_EQ(Get(doc, "$[*]"), doc);
  EXPECT_EQ(Get(doc, "$..*"), R"(["string",42,{"key":"value"},[0,1],"value",0,1])");
  EXPECT_EQ(Get(doc, "$..[*]"), R"(["string",42,{"key":"value"},[0,1],"value",0,1])");
  EXPECT_EQ(Get(doc, "$.*.*"), R"(["value",0,1])");
  EXPECT_EQ(Get(doc, "$[*][*]"), R"(["value",0,1])");
  EXPECT_EQ(Get(R"({"a":{"a":{"a":1}}})", "$..a"), R"([{"a":{"a":1}},{"a":1},1])");
  EXPECT_EQ(Get(R"({"a":[{"b":1},{"b":2}],"b":0})", "$..b"), "[0,1,2]");
  EXPECT_EQ(Get(R"({"a":[[1,2],[3]]})", "$..[0]"), "[[1,2],1,3]");
  EXPECT_EQ(Get(R"({"$ref":"r","x":{"$ref":"s"}})", "$..$ref"), R"(["r","s"])");
  EXPECT_EQ(Get(R"({"$ref":"r","x":{"$ref":"s"}})", "$..['$ref']"), R"(["r","s"])");
}

TEST(JsonPath, IndexesSlicesAndUnions) {
  std::string doc = "[0,1,2,3,4,5,6,7,8,9]";
  EXPECT_EQ(Get(doc, "$[0]"), "[0]");
  EXPECT_EQ(Get(doc, "$[-1]"), "[9]");
  EXPECT_EQ(Get(doc, "$[10]"), "[]");
  EXPECT_EQ(Get(doc, "$[-11]"), "[0]");  // clamps at 0, as RedisJSON
  EXPECT_EQ(Get(doc, "$[1:5:2]"), "[1,3]");
  EXPECT_EQ(Get(doc, "$[:2]"), "[0,1]");
  EXPECT_EQ(Get(doc, "$[7:]"), "[7,8,9]");
  EXPECT_EQ(Get(doc, "$[-2:]"), "[8,9]");
  EXPECT_EQ(Get(doc, "$[::3]"), "[0,3,6,9]");
  EXPECT_EQ(Get(doc, "$[:]"), doc);
  EXPECT_EQ(Get(doc, "$[5:2]"), "[]");
  EXPECT_EQ(Get(doc, "$[0,2,-1]"), "[0,2,9]");
  EXPECT_EQ(Get(doc, "$[ 1 , 3 ]"), "[1,3]");
  EXPECT_EQ(Get(doc, "$[2,2]"), "[2,2]");  // duplicates kept
  EXPECT_EQ(Get(R"({"a":1,"b":2,"c":3})", "$['c','a']"), "[3,1]");
  EXPECT_EQ(Get(R"({"a":1,"b":2})", R"($["a","x"])"), "[1]");
  EXPECT_EQ(Get(R"({"a":1})", "$[0]"), "[]");  // index on an object: nothing
  EXPECT_EQ(Get("[1]", "$.a"), "[]");
}

TEST(JsonPath, QuotedNames) {
  EXPECT_EQ(Get(R"({"single'quote":"v"})", R"($['single\'quote'])"), R"(["v"])");
  EXPECT_EQ(Get(R"({"double\"quote":"v"})", R"($["double\"quote"])"), R"(["v"])");
  EXPECT_EQ(Get(R"({"a b":1,"c:d":2,"":3})", R"($['a b'])"), "[1]");
  EXPECT_EQ(Get(R"({"a b":1,"c:d":2,"":3})", "$.c:d"), "[2]");
  EXPECT_EQ(Get(R"({"a b":1,"c:d":2,"":3})", "$['']"), "[3]");
  EXPECT_EQ(Get(R"({"a\"b":1})", R"($['a"b'])"), "[1]");
  EXPECT_EQ(Get(R"({"prod:id":"G637","price":194})", "$.prod:id"), R"(["G637"])");
}

TEST(JsonPath, FilterSemantics) {
  // On an object a filter tests the member values.
  EXPECT_EQ(Get(R"({"a":{"b":{"c":1}}})", "$[?(@.b.c == 1)]"), R"([{"b":{"c":1}}])");
  EXPECT_EQ(Get(R"({"a":{"b":{"c":1}}})", "$.a[?(@.b.c == 1)]"), "[]");
  EXPECT_EQ(Get(R"({"a":{"b":{"c":1}}})", "$[?(@.b.c)]"), R"([{"b":{"c":1}}])");
  // Scalars are not filtered themselves (no duplicates through "..").
  EXPECT_EQ(Get("[1,2,3]", "$..[?@>=1]"), "[1,2,3]");
  EXPECT_EQ(Get(R"({"a":[1,2,3]})", "$..[?@>=1]"), "[1,2,3]");
  // Numbers compare across int/double; other mixed types are never equal or ordered.
  std::string keys =
      R"([{"key":0},{"key":42},{"key":42.0},{"key":42.0001},{"key":"42"},{"some":1}])";
  EXPECT_EQ(Get(keys, "$[?(@['key']==42)]"), R"([{"key":42},{"key":42.0}])");
  EXPECT_EQ(Get(keys, "$[?(@.key>=42)].key"), "[42,42.0,42.0001]");
  EXPECT_EQ(Get(keys, "$[?(@.key!=42)].key"), R"([0,42.0001,"42"])");  // missing: no value
  EXPECT_EQ(Get(keys, "$[?(@.key=='42')].key"), R"(["42"])");
  EXPECT_EQ(Get(keys, "$[?(@.key<1.5)].key"), "[0]");
  EXPECT_EQ(Get(R"([{"a":true},{"a":false},{"a":null}])", "$[?(@.a==true)].a"), "[true]");
  EXPECT_EQ(Get(R"([{"a":true},{"a":false},{"a":null}])", "$[?(@.a==null)].a"), "[null]");
  EXPECT_EQ(Get(R"([{"a":true},{"a":false},{"a":null}])", "$[?(@.a>false)].a"), "[true]");
  EXPECT_EQ(Get(R"(["b","a","c"])", "$[?(@ > 'a')]"), R"(["b","c"])");
  // == on two paths compares values deeply.
  EXPECT_EQ(Get(R"([{"x":[1,{"y":2}],"z":[1,{"y":2}]},{"x":[1],"z":[2]}])", "$[?(@.x==@.z)].z"),
            R"([[1,{"y":2}]])");
  // Arrays and objects do not order.
  EXPECT_EQ(Get(R"([{"x":[1]},{"x":2}])", "$[?(@.x>1)].x"), "[2]");
  // Precedence: && before ||; parentheses; negation.
  std::string nums = R"([{"a":1,"b":1},{"a":1,"b":2},{"a":2,"b":1},{"a":2,"b":2}])";
  EXPECT_EQ(Get(nums, "$[?(@.a==1 || @.a==2 && @.b==2)]"),
            R"([{"a":1,"b":1},{"a":1,"b":2},{"a":2,"b":2}])");
  EXPECT_EQ(Get(nums, "$[?((@.a==1 || @.a==2) && @.b==2)]"), R"([{"a":1,"b":2},{"a":2,"b":2}])");
  EXPECT_EQ(Get(nums, "$[?(!(@.a==1))]"), R"([{"a":2,"b":1},{"a":2,"b":2}])");
  // Nested filters and a relative path with several results (not a single value: false).
  std::string books =
      R"({"book":[{"authors":[{"n":"Rees"},{"n":"Waugh"}],"t":"S"},{"authors":[{"n":"M"}],"t":"M"}]})";
  EXPECT_EQ(Get(books, "$.book[?(@.authors[?(@.n == 'Rees')])].t"), R"(["S"])");
  EXPECT_EQ(Get(books, "$.book[?(@.authors[*])].t"), R"(["M"])");
  EXPECT_EQ(Get(R"([{"a":-1.5},{"a":2}])", "$[?(@.a < -1)].a"), "[-1.5]");
  EXPECT_EQ(Get(R"([{"a":1},{"a":2}])", "$[?(@.a == $[0].a)].a"), "[1]");
}

TEST(JsonPath, LegacyPaths) {
  std::string doc = R"({"a":{"b":[10,20,{"c":"x"}]},"d e":1})";
  auto legacy = [](std::string_view p) {
    Result<Path> r = Path::Parse(p);
    return r.ok() && r->is_legacy();
  };
  EXPECT_TRUE(legacy("."));
  EXPECT_TRUE(legacy(".a"));
  EXPECT_TRUE(legacy("a"));
  EXPECT_TRUE(legacy("a[0]"));
  EXPECT_FALSE(legacy("$"));
  EXPECT_FALSE(legacy("$.a"));
  EXPECT_FALSE(legacy("$[0]"));
  EXPECT_EQ(Get(doc, "."), "[" + doc + "]");
  EXPECT_EQ(Get(doc, ".a.b[1]"), "[20]");
  EXPECT_EQ(Get(doc, "a.b[-1].c"), R"(["x"])");
  EXPECT_EQ(Get(doc, R"(.a["b"][0])"), "[10]");
  EXPECT_EQ(Get(doc, R"(['a']["b"][0])"), "[10]");
  EXPECT_EQ(Get(doc, R"(["d e"])"), "[1]");
  EXPECT_EQ(Get(doc, "..c"), R"(["x"])");
  EXPECT_EQ(Path::Parse(".a.b").value().jsonpath(), "$.a.b");
  EXPECT_EQ(Path::Parse("a.b").value().jsonpath(), "$.a.b");
  EXPECT_EQ(Path::Parse(".").value().jsonpath(), "$");
  EXPECT_EQ(Path::Parse(".").value().original(), ".");
  EXPECT_TRUE(Path::Parse(".").value().is_root());
  EXPECT_TRUE(Path::Parse("$").value().is_root());
}

TEST(JsonPath, StaticPathsAndLastStep) {
  auto is_static = [](std::string_view p) { return Path::Parse(p).value().is_static(); };
  EXPECT_TRUE(is_static("$"));
  EXPECT_TRUE(is_static("$.a.b"));
  EXPECT_TRUE(is_static("$.a[0]['b']"));
  EXPECT_TRUE(is_static("$.a[-1]"));
  EXPECT_TRUE(is_static(".a.b"));
  EXPECT_FALSE(is_static("$.a[*]"));
  EXPECT_FALSE(is_static("$..a"));
  EXPECT_FALSE(is_static("$.a[0,1]"));
  EXPECT_FALSE(is_static("$['a','b']"));
  EXPECT_FALSE(is_static("$.a[0:1]"));
  EXPECT_FALSE(is_static("$.a[?(@.b)]"));
  EXPECT_FALSE(is_static("$.*"));

  Path p = Path::Parse("$.a[0].name").value();
  EXPECT_EQ(p.last_name(), "name");
  EXPECT_EQ(p.last_index(), std::nullopt);
  EXPECT_EQ(p.step_count(), 3u);
  Path parent = p.ParentPath();
  EXPECT_EQ(parent.step_count(), 2u);
  EXPECT_EQ(parent.last_index(), 0);
  EXPECT_EQ(Path::Parse("$['x']").value().last_name(), "x");
  EXPECT_EQ(Path::Parse("$['x','y']").value().last_name(), std::nullopt);
  EXPECT_EQ(Path::Parse("$.a.*").value().last_name(), std::nullopt);
  EXPECT_TRUE(Path::Parse("$.a").value().ParentPath().is_root());
  EXPECT_EQ(Path::Parse("$..a").value().ParentPath().step_count(), 0u);
  EXPECT_EQ(Path::Parse("$.x..a").value().ParentPath().step_count(), 1u);
}

TEST(JsonPath, SyntaxErrorsInRedisJsonFormat) {
  EXPECT_EQ(ParseError("$."),
            "Error occurred on position 2, \"$. <<<<----\", expected one of the following: "
            "<string>, '*'.");
  EXPECT_EQ(ParseError("$.."),
            "Error occurred on position 3, \"$.. <<<<----\", expected one of the following: "
            "<string>, '*'.");
  EXPECT_EQ(ParseError("$.a."),
            "Error occurred on position 4, \"$.a. <<<<----\", expected one of the following: "
            "<string>, '*'.");
  EXPECT_EQ(ParseError("$.a]"),
            "Error occurred on position 3, \"$.a ---->>>> ]\", expected one of the following: "
            "EOI, '..'.");
  EXPECT_NE(ParseError("$[").find("Error occurred on position 2, \"$[ <<<<----\""),
            std::string::npos);
  EXPECT_NE(ParseError("$[1").find("Error occurred on position"), std::string::npos);
  EXPECT_NE(ParseError("$[?(@.a ==)]").find("Error occurred on position"), std::string::npos);
  EXPECT_NE(ParseError("$[1:2:0]").find("Error occurred on position"), std::string::npos);
  EXPECT_NE(ParseError("$[01]").find("Error occurred on position"), std::string::npos);
  EXPECT_NE(ParseError("$.ä").find("Error occurred on position"), std::string::npos);
  EXPECT_NE(ParseError("").find("Error occurred on position"), std::string::npos);
  // A legacy path reports positions in its JSONPath form.
  EXPECT_EQ(ParseError("a."),
            "Error occurred on position 4, \"$.a. <<<<----\", expected one of the following: "
            "<string>, '*'.");
  // Deep nesting is refused, not a stack overflow.
  EXPECT_NE(ParseError("$[?" + std::string(100000, '(') + "@" + std::string(100000, ')') + "]"),
            "ok");
  EXPECT_NE(ParseError("$[?" + std::string(100000, '!') + "@]"), "ok");
  EXPECT_EQ(ParseError("$[?((((@.a))))]"), "ok");
  EXPECT_EQ(ParseError("$[?(@.a == 1)]"), "ok");
  EXPECT_EQ(ParseError("$[?@.a==1]"), "ok");
  EXPECT_EQ(ParseError("$ .a"), "ok");
}

TEST(JsonPath, SelectForUpdateGivesLocations) {
  Value doc = Parse(R"({"a":[1,{"b":2}],"c":{"b":3}})").value();
  Path p = Path::Parse("$..b").value();
  std::vector<Match> m = SelectForUpdate(p, doc);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].value->as_int(), 2);  // document order: a's subtree before c
  // Replace both in place.
  for (Match& x : m) *x.value = Value(x.value->as_int() * 10);
  EXPECT_EQ(ToJson(doc), R"({"a":[1,{"b":20}],"c":{"b":30}})");

  std::vector<Match> root = SelectForUpdate(Path::Parse("$").value(), doc);
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].parent, nullptr);
  EXPECT_EQ(root[0].value, &doc);
  EXPECT_EQ(root[0].depth, 0u);

  std::vector<Match> arr = SelectForUpdate(Path::Parse("$.a[1]").value(), doc);
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0].parent, doc.Find("a"));
  EXPECT_EQ(arr[0].index, 1u);
  EXPECT_EQ(arr[0].depth, 2u);
}

TEST(JsonPath, EraseMatchesCountsLikeJsonDel) {
  Value doc = Parse(R"({"a":{"a":{"a":1}},"b":[{"a":2},{"a":3},4],"c":5})").value();
  std::vector<Match> m = SelectForUpdate(Path::Parse("$..a").value(), doc);
  EXPECT_EQ(m.size(), 5u);
  // Nested matches inside a removed one count once: $.a, $.b[0].a, $.b[1].a.
  EXPECT_EQ(EraseMatches(doc, m), 3u);
  EXPECT_EQ(ToJson(doc), R"({"b":[{},{},4],"c":5})");

  Value arr = Parse("[0,1,2,3,4,5]").value();
  std::vector<Match> odd = SelectForUpdate(Path::Parse("$[1,3,5,3]").value(), arr);
  EXPECT_EQ(EraseMatches(arr, odd), 3u);
  EXPECT_EQ(ToJson(arr), "[0,2,4]");

  Value one = Parse(R"({"x":1,"y":2})").value();
  EXPECT_EQ(EraseMatches(one, SelectForUpdate(Path::Parse("$.x").value(), one)), 1u);
  EXPECT_EQ(ToJson(one), R"({"y":2})");
  // The root is never removed here.
  EXPECT_EQ(EraseMatches(one, SelectForUpdate(Path::Parse("$").value(), one)), 0u);
  EXPECT_EQ(EraseMatches(one, {}), 0u);
}

TEST(JsonPath, LargeObjectsAreIndexed) {
  std::string doc = "{";
  for (int i = 0; i < 500; ++i) {
    if (i > 0) doc += ",";
    doc += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
  }
  doc += "}";
  EXPECT_EQ(Get(doc, "$.k499"), "[499]");
  EXPECT_EQ(Get(doc, "$.k0"), "[0]");
  EXPECT_EQ(Get(doc, "$.k500"), "[]");
}

}  // namespace
}  // namespace shoal::json
