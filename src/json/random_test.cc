// Randomized round trips: random trees -> serialize -> parse -> equal, and the same through
// the pretty printer and through Clone().
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "json/parse.h"
#include "json/path.h"
#include "json/serialize.h"

namespace shoal::json {
namespace {

class TreeGen {
 public:
  explicit TreeGen(uint32_t seed) : rng_(seed) {}

  Value Make(int depth) {
    int kind = Pick(depth >= 6 ? 6 : 8);
    switch (kind) {
      case 0:
        return Value();
      case 1:
        return Value(Pick(2) == 1);
      case 2:
        return Value(static_cast<int64_t>(rng_()) - static_cast<int64_t>(rng_()));
      case 3:
        return Value(RandomDouble());
      case 4:
      case 5:
        return Value(RandomString());
      case 6: {
        Value a = Value::Array();
        int n = Pick(6);
        for (int i = 0; i < n; ++i) a.PushBack(Make(depth + 1));
        return a;
      }
      default: {
        Value o = Value::Object();
        int n = Pick(12);
        for (int i = 0; i < n; ++i) o.Set(RandomString(), Make(depth + 1));
        return o;
      }
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  double RandomDouble() {
    switch (Pick(4)) {
      case 0:
        return static_cast<double>(Pick(1000)) / 8;  // exact, often integral: "2.0"
      case 1:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
      case 2:
        return std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(rng_), Pick(2000) - 1000);
      default:
        return -std::uniform_real_distribution<double>(0, 1e-3)(rng_);
    }
  }

  std::string RandomString() {
    static const char* pieces[] = {"a",
                                   "key",
                                   "\"",
                                   "\\",
                                   "/",
                                   "\n",
                                   "\t",
                                   "\x01",
                                   "\x1f",
                                   " ",
                                   "\xC3\xA9",
                                   "\xE2\x82\xAC",
                                   "\xF0\x9F\x98\x80",
                                   "-0",
                                   "longer piece of text",
                                   "$",
                                   "[",
                                   "'"};
    std::string s;
    int n = Pick(6);
    for (int i = 0; i < n; ++i) s += pieces[Pick(sizeof(pieces) / sizeof(pieces[0]))];
    return s;
  }

  std::mt19937 rng_;
};

TEST(JsonRandom, SerializeParseRoundTrip) {
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    TreeGen gen(seed);
    Value v = gen.Make(0);
    std::string text = ToJson(v);
    Result<Value> back = Parse(text);
    ASSERT_TRUE(back.ok()) << seed << ": " << back.status().message() << "\n" << text;
    ASSERT_TRUE(back->Equals(v)) << seed << "\n" << text;
    ASSERT_EQ(ToJson(*back), text) << seed;  // types (int vs double) survive too

    FormatOptions pretty{.indent = "  ", .newline = "\n", .space = " "};
    Result<Value> back2 = Parse(ToJson(v, pretty));
    ASSERT_TRUE(back2.ok()) << seed;
    ASSERT_EQ(ToJson(*back2), text) << seed;

    Value c = v.Clone();
    ASSERT_EQ(ToJson(c), text) << seed;
    ASSERT_LE(c.MemoryUsage(), v.MemoryUsage()) << seed;
  }
}

TEST(JsonRandom, WildcardDescentVisitsEveryNodeOnce) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    TreeGen gen(seed);
    Value v = gen.Make(0);
    size_t nodes = 0;
    std::vector<const Value*> stack{&v};
    while (!stack.empty()) {
      const Value* n = stack.back();
      stack.pop_back();
      ++nodes;
      for (const Value& c : n->items()) stack.push_back(&c);
      for (const Member& m : n->members()) stack.push_back(&m.value);
    }
    EXPECT_EQ(Select(Path::Parse("$..*").value(), v).size(), nodes - 1) << seed;
  }
}

// Mutated JSON texts: the fast path (simdjson) and the careful parser must agree on what is
// valid and on the values; path texts must never crash the path parser.
TEST(JsonRandom, FastAndCarefulParsersAgree) {
  std::mt19937 rng(7);
  const char alphabet[] = "{}[],:\"\\ -+.eE0123456789tfnulrsa\x01\x7f\xc3\xa9\xff\xed\xa0";
  int accepted = 0, rejected = 0;
  for (uint32_t seed = 1; seed <= 3000; ++seed) {
    TreeGen gen(seed);
    std::string text = ToJson(gen.Make(0));
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t pos = rng() % text.size();
      char c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0:
          text[pos] = c;
          break;
        case 1:
          text.insert(pos, 1, c);
          break;
        default:
          text.erase(pos, 1);
      }
    }
    Result<Value> fast = Parse(text);
    Result<Value> careful = ParseCarefully(text);
    ASSERT_EQ(fast.ok(), careful.ok()) << text << "\n"
                                       << (fast.ok() ? careful : fast).status().message();
    if (fast.ok()) {
      ++accepted;
      ASSERT_EQ(ToJson(*fast), ToJson(*careful)) << text;
    } else {
      ++rejected;
      ASSERT_EQ(fast.status().message(), careful.status().message()) << text;
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

TEST(JsonRandom, PathParserSurvivesGarbage) {
  std::mt19937 rng(11);
  const char alphabet[] = "$.[]()?@*:,'\"=!<>&|~ab01-9 \\";
  Value doc = Parse(R"({"a":[1,{"b":"x"}],"c":{"a":2}})").value();
  int valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string p = "$";
    int n = static_cast<int>(rng() % 16);
    for (int j = 0; j < n; ++j) p += alphabet[rng() % (sizeof(alphabet) - 1)];
    Result<Path> path = Path::Parse(p);
    if (!path.ok()) {
      EXPECT_EQ(path.status().message().rfind("Error occurred on position ", 0), 0u) << p;
      continue;
    }
    ++valid;
    Select(*path, doc);  // must not crash
  }
  EXPECT_GT(valid, 100);
}

}  // namespace
}  // namespace shoal::json
