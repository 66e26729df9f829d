#include "http/json_body.h"

#include <simdjson.h>

#include <charconv>

#include "http/resp3_to_json.h"

namespace shoal::http {

namespace {

// One parser per shard thread: a parser keeps its buffers between documents.
simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string Describe(simdjson::error_code e) {
  return std::string("malformed JSON: ") + simdjson::error_message(e);
}

std::string NumberText(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(e));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(e));
    default: {
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), double(e));
      return std::string(buf, p);
    }
  }
}

}  // namespace

ObjectBody CheckObjectBody(std::string_view body) {
  ObjectBody out;
  simdjson::dom::element doc;
  simdjson::error_code err = Parser().parse(body.data(), body.size()).get(doc);
  if (err) {
    out.error = Describe(err);
    return out;
  }
  if (!doc.is_object()) {
    out.error = "the body must be a JSON object";
    return out;
  }
  simdjson::dom::element id;
  if (doc.get_object().at_key("id").get(id) == simdjson::SUCCESS) {
    out.has_id = true;
    if (id.is_string()) {
      out.id.assign(std::string_view(id));
    } else if (id.is_int64() || id.is_uint64()) {
      out.id = NumberText(id);
    } else {
      out.id_error = "\"id\" must be a string or an integer";
    }
  }
  return out;
}

std::string ParseCommandBody(std::string_view body, std::vector<std::string>* args) {
  simdjson::dom::element doc;
  simdjson::error_code err = Parser().parse(body.data(), body.size()).get(doc);
  if (err) return Describe(err);
  simdjson::dom::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS) {
    return "the body must be a JSON array: the command and its arguments";
  }
  for (simdjson::dom::element e : arr) {
    if (e.is_string()) {
      args->emplace_back(std::string_view(e));
    } else if (e.is_number()) {
      args->push_back(NumberText(e));
    } else {
      return "command arguments must be strings or numbers";
    }
  }
  if (args->empty()) return "the command array is empty";
  return "";
}

std::string InsertId(std::string_view body, std::string_view id) {
  size_t brace = body.find('{');  // Valid object: the first '{' opens it.
  size_t next = body.find_first_not_of(" \t\r\n", brace + 1);
  bool empty = next != std::string_view::npos && body[next] == '}';
  std::string out;
  out.reserve(body.size() + id.size() + 8);
  out.append(body.substr(0, brace + 1));
  out.append("\"id\":");
  AppendJsonString(id, &out);
  if (!empty) out.push_back(',');
  out.append(body.substr(brace + 1));
  return out;
}

}  // namespace shoal::http
