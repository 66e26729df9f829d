// What COMMAND INFO and COMMAND DOCS say about each command: Redis 7.0's flags, ACL categories,
// tips, key specifications and documentation summary. Dispatch does not read this; it uses the
// CommandTable's own arity, flags and key positions (a unit test checks the two agree).
#pragma once

#include <string_view>
#include <vector>

namespace shoal::server {

// Every member has a default initializer, so a designated initializer may leave any of them out
// (GCC's -Wmissing-field-initializers flags members that have none).
struct KeySpecMeta {
  std::string_view flags{};  // Space-separated, e.g. "RW access update".
  // begin_search: either an index (index > 0) or a keyword search.
  int begin_index = 0;
  std::string_view begin_keyword{};  // When non-empty, begin_search is {keyword, startfrom}.
  int keyword_startfrom = 0;
  // find_keys: a range {lastkey, keystep, limit}, or a keynum {keynumidx, firstkey, keystep}.
  bool keynum = false;
  int lastkey = 0;
  int keystep = 1;
  int limit = 0;
  int keynumidx = 0;
  int firstkey = 0;
  // COMMAND INFO puts "notes" first in the key spec when non-empty (e.g. SET, GETEX).
  std::string_view notes{};
};

// One entry of COMMAND DOCS "history": the version and what changed in it.
struct DocHistoryMeta {
  std::string_view version{};
  std::string_view change{};
};

struct CommandMeta {
  std::string_view name{};  // Lower case; subcommands as "client|list".
  int arity = 0;
  std::string_view flags{};  // Space-separated Redis flags: "write denyoom fast".
  int first_key = 0, last_key = 0, key_step = 0;
  std::string_view acl_categories{};  // Space-separated: "@write @string @fast".
  std::string_view tips{};            // Space-separated: "nondeterministic_output".
  std::vector<KeySpecMeta> key_specs{};
  // COMMAND DOCS.
  std::string_view summary{};
  std::string_view since{};
  std::string_view group{};
  std::string_view complexity{};
  std::string_view doc_flags{};         // "deprecated" etc., space-separated; usually empty.
  std::string_view deprecated_since{};  // Only for deprecated commands.
  std::string_view replaced_by{};
  std::vector<DocHistoryMeta> history{};  // Oldest first, as Redis lists it.
};

// Metadata for every command Shoal implements, or nullptr. `name` is lower case.
const CommandMeta* FindCommandMeta(std::string_view name);
// All entries: each top-level command, a container followed by its subcommands sorted by name.
const std::vector<CommandMeta>& AllCommandMeta();
// Commands Redis 7.0 lacks (JSON.*, as RedisJSON offers them), written by hand in
// json_command_metadata.cc; FindCommandMeta looks here too.
const std::vector<CommandMeta>& ModuleCommandMeta();

}  // namespace shoal::server
