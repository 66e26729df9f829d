#include "server/write_log.h"

#include <cstdlib>
#include <optional>
#include <vector>

#include "common/strings.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "storage/db.h"

namespace shoal::server {
namespace {

thread_local LogBuffer t_buffer;
thread_local LogBuffer* t_capture = nullptr;

void AppendBulk(std::string* out, std::string_view s) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s);
  out->append("\r\n");
}

void AppendCommand(std::string* out, absl::Span<const std::string_view> argv) {
  out->push_back('*');
  out->append(std::to_string(argv.size()));
  out->append("\r\n");
  for (std::string_view a : argv) AppendBulk(out, a);
}

LogBuffer& Target() { return t_capture != nullptr ? *t_capture : t_buffer; }

bool Is(std::string_view arg, std::string_view word) { return EqualsIgnoreCase(arg, word); }

// The key's deadline after the command, or nullopt when the key is gone; -1: no deadline.
std::optional<int64_t> DeadlineAfter(CommandContext& ctx, std::string_view key) {
  storage::Db& db = ctx.db();
  storage::Entry* e = db.Find(key, ctx.now_ms(), storage::kLookupNoTouch);
  if (e == nullptr) return std::nullopt;
  return db.GetExpire(e);
}

// EXPIRE and friends, GETEX: the key's resulting deadline, as absolute commands.
void LogDeadlineOf(CommandContext& ctx, std::string_view key) {
  std::optional<int64_t> when = DeadlineAfter(ctx, key);
  int db = ctx.db_index();
  if (!when) {
    WriteLog::Command(db, {"DEL", key});
  } else if (*when < 0) {
    WriteLog::Command(db, {"PERSIST", key});
  } else {
    std::string at = std::to_string(*when);
    WriteLog::Command(db, {"PEXPIREAT", key, at});
  }
}

// SET with EX/PX/EXAT: the same SET with the absolute PXAT (computed as the command did).
void LogSet(CommandContext& ctx) {
  std::vector<std::string_view> argv = {ctx.arg(0), ctx.arg(1), ctx.arg(2)};
  std::string at;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    bool ex = Is(a, "EX"), px = Is(a, "PX"), exat = Is(a, "EXAT");
    if ((ex || px || exat) && i + 1 < ctx.argc()) {
      std::optional<int64_t> v = ParseInt64(ctx.arg(++i));
      if (!v) return;  // The command failed; nothing to log (the caller saw an error reply).
      int64_t ms = ex ? ctx.now_ms() + *v * 1000 : px ? ctx.now_ms() + *v : *v * 1000;
      at = std::to_string(ms);
      argv.push_back("PXAT");
      argv.push_back(at);
      continue;
    }
    argv.push_back(a);
  }
  WriteLog::Command(ctx.db_index(), argv);
}

// SPOP: SREM of what it popped (read back from its reply).
void LogSpop(CommandContext& ctx, std::string_view reply) {
  std::vector<std::string> members;
  size_t pos = 0;
  auto line = [&]() -> std::string_view {
    size_t end = reply.find("\r\n", pos);
    if (end == std::string_view::npos) return {};
    std::string_view l = reply.substr(pos, end - pos);
    pos = end + 2;
    return l;
  };
  auto bulk = [&](std::string_view header) {
    if (header.empty() || header[0] != '$') return;
    std::optional<int64_t> n = ParseInt64(header.substr(1));
    if (!n || *n < 0 || pos + static_cast<size_t>(*n) > reply.size()) return;
    members.emplace_back(reply.substr(pos, static_cast<size_t>(*n)));
    pos += static_cast<size_t>(*n) + 2;
  };
  std::string_view first = line();
  if (!first.empty() && (first[0] == '*' || first[0] == '~')) {
    std::optional<int64_t> n = ParseInt64(first.substr(1));
    for (int64_t i = 0; n && i < *n; ++i) bulk(line());
  } else {
    bulk(first);
  }
  if (members.empty()) return;
  std::vector<std::string_view> argv = {"SREM", ctx.arg(1)};
  for (const std::string& m : members) argv.push_back(m);
  WriteLog::Command(ctx.db_index(), argv);
}

void LogRestore(CommandContext& ctx) {
  std::optional<int64_t> ttl = ParseInt64(ctx.arg(2));
  bool absttl = false;
  for (size_t i = 4; i < ctx.argc(); ++i) absttl = absttl || Is(ctx.arg(i), "ABSTTL");
  if (!ttl || *ttl == 0 || absttl) {
    WriteLog::Command(ctx.db_index(), ctx.args());
    return;
  }
  std::string at = std::to_string(ctx.now_ms() + *ttl);
  std::vector<std::string_view> argv(ctx.args().begin(), ctx.args().end());
  argv[2] = at;
  argv.push_back("ABSTTL");
  WriteLog::Command(ctx.db_index(), argv);
}

}  // namespace

void LogBuffer::Append(int db_index, absl::Span<const std::string_view> argv) {
  if (db_index != db) {
    std::string n = std::to_string(db_index);
    AppendCommand(&bytes, {"SELECT", n});
    db = db_index;
  }
  AppendCommand(&bytes, argv);
}

void LogBuffer::Absorb(const LogBuffer& other) {
  if (other.empty()) return;
  bytes.append(other.bytes);
  db = other.db;
}

void WriteLog::Command(int db, absl::Span<const std::string_view> argv) {
  if (!enabled()) return;
  Target().Append(db, argv);
}

void WriteLog::AfterWrite(const CommandSpec& spec, CommandContext& ctx, size_t reply_start) {
  if (!enabled() || (spec.flags & kWrite) == 0) return;
  // Blocking commands log what they pop where they pop it (blocking.h waits' Serve).
  if (spec.flags & kConnectionOnly) return;
  const std::string& out = *ctx.reply().buffer();
  std::string_view reply;
  if (reply_start < out.size()) reply = std::string_view(out).substr(reply_start);
  if (!reply.empty() && reply[0] == '-') return;  // Failed: changed nothing.
  const std::string& name = spec.name;
  // Outside a transaction a flush logs itself, while it holds every shard (server_commands.cc).
  if ((name == "flushall" || name == "flushdb") && !ctx.in_transaction() &&
      !ctx.holds_all_shards()) {
    return;
  }
  if (name == "expire" || name == "pexpire" || name == "expireat" || name == "pexpireat") {
    if (reply == ":0\r\n") return;  // Not changed (missing key, or NX/XX/GT/LT refused).
    return LogDeadlineOf(ctx, ctx.arg(1));
  }
  if (name == "getex") {
    if (ctx.argc() == 2) return;  // A plain read.
    return LogDeadlineOf(ctx, ctx.arg(1));
  }
  if (name == "setex" || name == "psetex") {
    std::optional<int64_t> v = ParseInt64(ctx.arg(2));
    if (!v) return;
    std::string at = std::to_string(ctx.now_ms() + (name == "setex" ? *v * 1000 : *v));
    return Command(ctx.db_index(), {"SET", ctx.arg(1), ctx.arg(3), "PXAT", at});
  }
  if (name == "set") return LogSet(ctx);
  if (name == "spop") return LogSpop(ctx, reply);
  if (name == "restore") return LogRestore(ctx);
  Command(ctx.db_index(), ctx.args());
}

void WriteLog::Commit(const LogBuffer& captured) {
  if (captured.empty()) return;
  if (t_capture != nullptr) {
    t_capture->Absorb(captured);
    return;
  }
  AppendCommand(&t_buffer.bytes, {"MULTI"});
  t_buffer.Absorb(captured);
  AppendCommand(&t_buffer.bytes, {"EXEC"});
}

LogBuffer& WriteLog::ThreadBuffer() { return t_buffer; }

void WriteLog::ExpiredKey(void* db_index, std::string_view key) {
  Command(static_cast<int>(reinterpret_cast<intptr_t>(db_index)), {"DEL", key});
}

ScopedCapture::ScopedCapture(LogBuffer* buffer) : saved_(t_capture) { t_capture = buffer; }
ScopedCapture::~ScopedCapture() { t_capture = saved_; }

LogBuffer* CurrentCapture() { return t_capture; }

}  // namespace shoal::server
