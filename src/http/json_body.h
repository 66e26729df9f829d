// Checks request bodies that must be JSON, with simdjson (full validation: syntax, UTF-8,
// nesting depth), before anything is stored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shoal::http {

struct ObjectBody {
  std::string error;  // Non-empty: the body is not a JSON object (why, for a 400).
  bool has_id = false;
  std::string id;        // The "id" member as text (a string, or an integer's digits).
  std::string id_error;  // Non-empty: "id" is present but neither a string nor an integer.
};

// Validates that `body` is one JSON object and reads its "id" member.
ObjectBody CheckObjectBody(std::string_view body);

// Parses a /command body: a non-empty JSON array of strings and numbers (numbers become their
// shortest decimal text). Returns an error message, or empty on success.
std::string ParseCommandBody(std::string_view body, std::vector<std::string>* args);

// `body` (a valid JSON object) with "id":<id as a JSON string> inserted as its first member.
std::string InsertId(std::string_view body, std::string_view id);

}  // namespace shoal::http
