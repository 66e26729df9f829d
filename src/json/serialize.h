// Serializing a json::Value to JSON text, byte-exact with RedisJSON's JSON.GET.
//
// Compact by default. Numbers as serde_json/ryu print them: integers as is, doubles in the
// shortest form that round-trips, always with a '.0' or an exponent so they stay doubles
// (1.0, 3.14, 1e300, 1.5e-7, 0.0001, -0.0). Strings escaped as serde_json does: '"' and '\\',
// \b \f \n \r \t, other control characters as \u00XX (lowercase hex); '/', DEL and non-ASCII
// UTF-8 are written as they are.
#pragma once

#include <string>
#include <string_view>

#include "json/value.h"

namespace shoal::json {

// JSON.GET's INDENT / NEWLINE / SPACE. With all three empty the output is compact. The layout
// follows RedisJSON's formatter: NEWLINE then INDENT x depth before each child and before the
// closing bracket of a non-empty container, SPACE after each ':'; empty containers are "[]" and
// "{}".
struct FormatOptions {
  std::string_view indent = {};
  std::string_view newline = {};
  std::string_view space = {};
  bool compact() const { return indent.empty() && newline.empty() && space.empty(); }
};

// Appends `v` as JSON text to `out` (the caller may reserve; nothing else is allocated).
void AppendJson(const Value& v, std::string* out);
void AppendJson(const Value& v, const FormatOptions& options, std::string* out);
std::string ToJson(const Value& v);
std::string ToJson(const Value& v, const FormatOptions& options);

// The pieces, for callers that assemble JSON around values (e.g. JSON.GET with several paths
// builds {"path":[...],...}).
void AppendJsonString(std::string_view s, std::string* out);  // quoted and escaped
void AppendDouble(double d, std::string* out);                // ryu style, finite d
void AppendInt(int64_t i, std::string* out);

// Builds JSON around values that are not one tree, with the same layout rules as AppendJson:
// JSON.GET's reply for a JSONPath is an array of the matches ("[m1,m2]"), with several paths an
// object of such arrays ({"$.a":[...],"$.b":[...]}), and INDENT/NEWLINE/SPACE apply to the
// whole reply. Calls must nest properly (Key only directly inside an object, before its value).
class JsonWriter {
 public:
  // `options` may be nullptr (compact); it must outlive the writer.
  JsonWriter(const FormatOptions* options, std::string* out);

  void BeginArray();
  void EndArray();
  void BeginObject();
  void EndObject();
  void Key(std::string_view key);
  void Write(const Value& v);  // a whole value as the next element / member value

 private:
  void BeforeElement();
  void NewLine();

  const FormatOptions* opts_;
  std::string* out_;
  std::string open_;  // per open container: 0 = no element yet, 1 = has elements
  bool after_key_ = false;
};

// Rough serialized size of `v` (a reserve hint; may under- or overestimate).
size_t EstimateJsonSize(const Value& v);

}  // namespace shoal::json
