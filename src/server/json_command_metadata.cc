// COMMAND INFO / COMMAND DOCS entries for the JSON.* commands. Redis 7.0 has no JSON commands, so
// these are written by hand (command_metadata.cc is generated from a redis-server and cannot hold
// them): flags and key positions agree with our command table (a unit test checks it), flags in
// Redis's words as RedisJSON declares them ("write denyoom", "readonly", plus "module"), group
// "module" as Redis reports module commands, summaries in our own words.
#include "server/command_metadata.h"

namespace shoal::server {
namespace {

constexpr std::string_view kWriteAcl = "@write @slow @json";
constexpr std::string_view kReadAcl = "@read @slow @json";

// A command with one key at position 1.
CommandMeta One(std::string_view name, int arity, bool write, bool denyoom,
                std::string_view summary, std::string_view complexity) {
  CommandMeta m;
  m.name = name;
  m.arity = arity;
  m.flags = write ? (denyoom ? "write denyoom module" : "write module") : "readonly module";
  m.first_key = 1;
  m.last_key = 1;
  m.key_step = 1;
  m.acl_categories = write ? kWriteAcl : kReadAcl;
  m.key_specs = {KeySpecMeta{.flags = write ? "RW update" : "RO access", .begin_index = 1}};
  m.summary = summary;
  m.since = "1.0.0";
  m.group = "module";
  m.complexity = complexity;
  return m;
}

}  // namespace

const std::vector<CommandMeta>& ModuleCommandMeta() {
  // Leaked on purpose, as AllCommandMeta's table.
  static const auto* const kAll = [] {
    auto* v = new std::vector<CommandMeta>();
    const char* kPath = "O(N) where N is the size of the values at the path";
    v->push_back(One("json.arrappend", -4, true, true,
                     "Appends JSON values to the arrays at a path", "O(1) per value"));
    v->push_back(One("json.arrindex", -4, false, false,
                     "Index of the first occurrence of a JSON value in the arrays at a path",
                     "O(N) where N is the array size"));
    v->push_back(One("json.arrinsert", -5, true, true,
                     "Inserts JSON values into the arrays at a path before an index",
                     "O(N) where N is the array size"));
    v->push_back(One("json.arrlen", -2, false, false, "Lengths of the arrays at a path", "O(1)"));
    v->push_back(One("json.arrpop", -2, true, false,
                     "Removes and returns an element of the arrays at a path", kPath));
    v->push_back(One("json.arrtrim", 5, true, false,
                     "Keeps only the given index range of the arrays at a path", kPath));
    v->push_back(One("json.clear", -2, true, false,
                     "Empties containers and zeroes numbers at a path", kPath));
    CommandMeta debug;
    debug.name = "json.debug";
    debug.arity = -2;
    debug.flags = "readonly module";
    debug.acl_categories = kReadAcl;
    debug.summary = "Debugging container command";
    debug.since = "1.0.0";
    debug.group = "module";
    debug.complexity = "N/A";
    v->push_back(debug);
    CommandMeta help = debug;
    help.name = "json.debug|help";
    help.arity = 2;
    help.summary = "Shows helpful information about JSON.DEBUG";
    v->push_back(help);
    CommandMeta memory = One("json.debug|memory", -3, false, false,
                             "Bytes used by the JSON values at a path", kPath);
    memory.first_key = memory.last_key = 2;
    memory.key_specs = {KeySpecMeta{.flags = "RO", .begin_index = 2}};
    v->push_back(memory);
    v->push_back(One("json.del", -2, true, false, "Deletes the values at a path", kPath));
    v->push_back(One("json.forget", -2, true, false, "Deletes the values at a path (JSON.DEL)",
                     kPath));
    v->push_back(One("json.get", -2, false, false, "Gets the values at one or more paths",
                     "O(N) where N is the size of the values returned"));
    v->push_back(One("json.merge", 4, true, true,
                     "Merges a JSON value into the values at a path (RFC 7386)", kPath));
    CommandMeta mget = One("json.mget", -3, false, false,
                           "Gets the values at a path from several keys",
                           "O(M*N) for M keys and values of size N");
    mget.last_key = -2;
    mget.key_specs = {KeySpecMeta{.flags = "RO access", .begin_index = 1, .lastkey = -2}};
    v->push_back(mget);
    CommandMeta mset = One("json.mset", -4, true, true,
                           "Sets JSON values at paths of several keys, all or nothing",
                           "O(K*(M+N)) for K keys");
    mset.last_key = -1;
    mset.key_step = 3;
    mset.key_specs = {
        KeySpecMeta{.flags = "RW update", .begin_index = 1, .lastkey = -1, .keystep = 3}};
    v->push_back(mset);
    v->push_back(One("json.numincrby", 4, true, false,
                     "Adds a number to the numbers at a path", "O(1) per value"));
    v->push_back(One("json.nummultby", 4, true, false,
                     "Multiplies the numbers at a path by a number", "O(1) per value"));
    v->push_back(One("json.objkeys", -2, false, false, "Keys of the objects at a path",
                     "O(N) where N is the number of keys"));
    v->push_back(One("json.objlen", -2, false, false, "Number of keys of the objects at a path",
                     "O(1)"));
    v->push_back(One("json.resp", -2, false, false,
                     "Returns the values at a path in RESP form", kPath));
    v->push_back(One("json.set", -4, true, true, "Sets or updates the JSON value at a path",
                     "O(M+N) where M is the original size and N the new size"));
    v->push_back(One("json.strappend", -3, true, true,
                     "Appends a string to the strings at a path", "O(1) per value"));
    v->push_back(One("json.strlen", -2, false, false, "Lengths of the strings at a path",
                     "O(1)"));
    v->push_back(One("json.toggle", 3, true, true, "Flips the booleans at a path",
                     "O(1) per value"));
    v->push_back(One("json.type", -2, false, false, "Types of the values at a path", "O(1)"));
    return v;
  }();
  return *kAll;
}

}  // namespace shoal::server
