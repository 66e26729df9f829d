// COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | HELP]: the command table, described the way
// Redis 7.0 describes its own (flags, ACL categories, key specs, docs), from command_metadata.
#include "common/glob.h"
#include "commands/helpers.h"
#include "commands/register.h"
#include "server/command_metadata.h"

namespace shoal::cmd {
namespace {

using server::CommandMeta;
using server::CommandSpec;
using server::KeySpecMeta;

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A set of the space-separated `words`, as status strings (flags, ACL categories) or bulk
// strings (tips): Redis uses each kind in a different field.
void WordSet(protocol::ReplyBuilder& r, std::string_view words, bool as_status = true) {
  std::vector<std::string_view> w = Words(words);
  r.SetHeader(w.size());
  for (std::string_view x : w) as_status ? r.SimpleString(x) : r.Bulk(x);
}

void ReplyKeySpec(protocol::ReplyBuilder& r, const KeySpecMeta& k) {
  r.MapHeader(k.notes.empty() ? 3 : 4);
  if (!k.notes.empty()) {
    r.Bulk("notes");
    r.Bulk(k.notes);
  }
  r.Bulk("flags");
  WordSet(r, k.flags);
  r.Bulk("begin_search");
  r.MapHeader(2);
  r.Bulk("type");
  if (!k.begin_keyword.empty()) {
    r.Bulk("keyword");
    r.Bulk("spec");
    r.MapHeader(2);
    r.Bulk("keyword");
    r.Bulk(k.begin_keyword);
    r.Bulk("startfrom");
    r.Integer(k.keyword_startfrom);
  } else {
    r.Bulk("index");
    r.Bulk("spec");
    r.MapHeader(1);
    r.Bulk("index");
    r.Integer(k.begin_index);
  }
  r.Bulk("find_keys");
  r.MapHeader(2);
  r.Bulk("type");
  if (k.keynum) {
    r.Bulk("keynum");
    r.Bulk("spec");
    r.MapHeader(3);
    r.Bulk("keynumidx");
    r.Integer(k.keynumidx);
    r.Bulk("firstkey");
    r.Integer(k.firstkey);
    r.Bulk("keystep");
    r.Integer(k.keystep);
  } else {
    r.Bulk("range");
    r.Bulk("spec");
    r.MapHeader(3);
    r.Bulk("lastkey");
    r.Integer(k.lastkey);
    r.Bulk("keystep");
    r.Integer(k.keystep);
    r.Bulk("limit");
    r.Integer(k.limit);
  }
}

// Our own flags in Redis's words, for commands without recorded metadata.
std::string FlagWords(const CommandSpec& spec) {
  std::string w;
  auto add = [&](uint32_t f, const char* name) {
    if (spec.flags & f) w += std::string(w.empty() ? "" : " ") + name;
  };
  add(server::kWrite, "write");
  add(server::kReadOnly, "readonly");
  add(server::kDenyOom, "denyoom");
  add(server::kAdmin, "admin");
  add(server::kNoScript, "noscript");
  add(server::kLoading, "loading");
  add(server::kStale, "stale");
  add(server::kFast, "fast");
  add(server::kNoAuth, "no_auth");
  return w;
}

void ReplyInfo(protocol::ReplyBuilder& r, const CommandSpec& spec) {
  const CommandMeta* m = server::FindCommandMeta(spec.name);
  r.ArrayHeader(10);
  r.Bulk(spec.name);
  r.Integer(spec.arity);
  WordSet(r, m != nullptr ? m->flags : std::string_view(FlagWords(spec)));
  r.Integer(spec.first_key);
  r.Integer(spec.last_key);
  r.Integer(spec.key_step);
  WordSet(r, m != nullptr ? m->acl_categories
                            : std::string_view(spec.flags & server::kFast ? "@fast" : "@slow"));
  WordSet(r, m != nullptr ? m->tips : "", /*as_status=*/false);
  if (m != nullptr) {
    r.SetHeader(m->key_specs.size());
    for (const KeySpecMeta& k : m->key_specs) ReplyKeySpec(r, k);
  } else {
    r.SetHeader(0);
  }
  r.SetHeader(spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) ReplyInfo(r, sub);
}

void ReplyDocs(protocol::ReplyBuilder& r, const CommandSpec& spec) {
  const CommandMeta* m = server::FindCommandMeta(spec.name);
  CommandMeta empty;
  if (m == nullptr) m = &empty;
  size_t n = 1;  // group
  n += !m->summary.empty() + !m->since.empty() + !m->complexity.empty() +
       !m->doc_flags.empty() + !m->deprecated_since.empty() + !m->replaced_by.empty() +
       !m->history.empty() + !spec.subcommands.empty();
  r.MapHeader(n);
  auto field = [&](const char* name, std::string_view v) {
    if (v.empty()) return;
    r.Bulk(name);
    r.Bulk(v);
  };
  field("summary", m->summary);
  field("since", m->since);
  r.Bulk("group");
  r.Bulk(m->group.empty() ? "server" : m->group);
  field("complexity", m->complexity);
  if (!m->doc_flags.empty()) {
    r.Bulk("doc_flags");
    WordSet(r, m->doc_flags);
  }
  field("deprecated_since", m->deprecated_since);
  field("replaced_by", m->replaced_by);
  if (!m->history.empty()) {
    r.Bulk("history");
    r.ArrayHeader(m->history.size());
    for (const auto& h : m->history) {
      r.ArrayHeader(2);
      r.Bulk(h.version);
      r.Bulk(h.change);
    }
  }
  if (!spec.subcommands.empty()) {
    r.Bulk("subcommands");
    r.MapHeader(spec.subcommands.size());
    for (const CommandSpec& sub : spec.subcommands) {
      r.Bulk(sub.name);
      ReplyDocs(r, sub);
    }
  }
}

const CommandSpec* FindByFullName(std::string_view name) {
  size_t bar = name.find('|');
  const CommandSpec* top = server::GlobalCommandTable().Find(name.substr(0, bar));
  if (top == nullptr || bar == std::string_view::npos) return top;
  return server::CommandTable::FindSub(*top, name.substr(bar + 1));
}

void All(CommandContext& ctx) {
  const auto& all = server::GlobalCommandTable().all();
  ctx.reply().ArrayHeader(all.size());
  for (const auto& spec : all) ReplyInfo(ctx.reply(), *spec);
}

void Count(CommandContext& ctx) {
  ctx.reply().Integer(static_cast<int64_t>(server::GlobalCommandTable().size()));
}

void Info(CommandContext& ctx) {
  if (ctx.argc() == 2) return All(ctx);
  ctx.reply().ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const CommandSpec* spec = FindByFullName(ctx.arg(i));
    if (spec == nullptr) {
      ctx.reply().Null();
    } else {
      ReplyInfo(ctx.reply(), *spec);
    }
  }
}

void Docs(CommandContext& ctx) {
  std::vector<const CommandSpec*> specs;
  if (ctx.argc() == 2) {
    for (const auto& spec : server::GlobalCommandTable().all()) specs.push_back(spec.get());
  } else {
    for (size_t i = 2; i < ctx.argc(); ++i) {
      if (const CommandSpec* spec = FindByFullName(ctx.arg(i))) specs.push_back(spec);
    }
  }
  ctx.reply().MapHeader(specs.size());
  for (const CommandSpec* spec : specs) {
    ctx.reply().Bulk(spec->name);
    ReplyDocs(ctx.reply(), *spec);
  }
}

void List(CommandContext& ctx) {
  enum class Filter { kNone, kAclCat, kPattern, kModule } filter = Filter::kNone;
  std::string_view value;
  if (ctx.argc() == 5 && ArgIs(ctx.arg(2), "FILTERBY")) {
    if (ArgIs(ctx.arg(3), "ACLCAT")) {
      filter = Filter::kAclCat;
    } else if (ArgIs(ctx.arg(3), "PATTERN")) {
      filter = Filter::kPattern;
    } else if (ArgIs(ctx.arg(3), "MODULE")) {
      filter = Filter::kModule;
    } else {
      return ctx.ReplyError(Status::Syntax());
    }
    value = ctx.arg(4);
  } else if (ctx.argc() != 2) {
    return ctx.ReplyError(Status::Syntax());
  }
  std::vector<std::string_view> names;
  auto consider = [&](const CommandSpec& spec) {
    switch (filter) {
      case Filter::kNone: break;
      case Filter::kModule: return;  // No modules.
      case Filter::kPattern:
        if (!GlobMatch(value, spec.name, /*nocase=*/true)) return;
        break;
      case Filter::kAclCat: {
        const CommandMeta* m = server::FindCommandMeta(spec.name);
        bool found = false;
        if (m != nullptr) {
          for (std::string_view c : Words(m->acl_categories)) {
            if (EqualsIgnoreCase(c.substr(1), value)) found = true;
          }
        }
        if (!found) return;
        break;
      }
    }
    names.push_back(spec.name);
  };
  for (const auto& spec : server::GlobalCommandTable().all()) {
    consider(*spec);
    for (const CommandSpec& sub : spec->subcommands) consider(sub);
  }
  ctx.reply().ArrayHeader(names.size());
  for (std::string_view n : names) ctx.reply().Bulk(n);
}

void GetKeys(CommandContext& ctx) {
  const CommandSpec* spec = server::GlobalCommandTable().Find(ctx.arg(2));
  if (spec == nullptr) return ctx.ReplyError("ERR Invalid command specified");
  size_t argc = ctx.argc() - 2;
  if (spec->is_container() && argc >= 2) {
    spec = server::CommandTable::FindSub(*spec, ctx.arg(3));
    if (spec == nullptr) return ctx.ReplyError("ERR Invalid command specified");
  }
  if (!spec->ArityOk(argc)) {
    return ctx.ReplyError("ERR Invalid number of arguments specified for command");
  }
  if (!spec->has_keys()) return ctx.ReplyError("ERR The command has no key arguments");
  std::vector<int> positions;
  if (!spec->KeyPositions(ctx.args().subspan(2), &positions)) {
    // Commands that may run without keys (EVAL ... 0) list none instead, as Redis does.
    const server::CommandMeta* meta = server::FindCommandMeta(spec->name);
    if (meta != nullptr && meta->flags.find("no_mandatory_keys") != std::string_view::npos) {
      return ctx.reply().ArrayHeader(0);
    }
    return ctx.ReplyError("ERR Invalid arguments specified for command");
  }
  std::vector<std::string_view> keys;
  for (int i : positions) keys.push_back(ctx.arg(2 + i));
  ctx.reply().ArrayHeader(keys.size());
  for (std::string_view k : keys) ctx.reply().Bulk(k);
}

void Help(CommandContext& ctx) {
  static const char* const kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "HELP",
      "    Print this help.",
  };
  ReplyHelpLines(ctx, kLines);
}

// COMMAND alone lists everything; with a subcommand it is a container.
void CommandBare(CommandContext& ctx) { All(ctx); }

}  // namespace

void RegisterCommandCommand(server::CommandTable& table) {
  using namespace server;
  CommandSpec command{.name = "command", .arity = -1, .flags = kLoading | kStale,
                      .handler = CommandBare};
  command.AddSubcommand("count", 2, kLoading | kStale, Count);
  command.AddSubcommand("info", -2, kLoading | kStale, Info);
  command.AddSubcommand("docs", -2, kLoading | kStale, Docs);
  command.AddSubcommand("list", -2, kLoading | kStale, List);
  command.AddSubcommand("getkeys", -4, kLoading | kStale, GetKeys);
  command.AddSubcommand("help", 2, kLoading | kStale, Help);
  table.Add(std::move(command));
}

}  // namespace shoal::cmd
