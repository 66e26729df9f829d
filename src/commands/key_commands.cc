// Keyspace commands: DEL UNLINK EXISTS TOUCH TYPE KEYS RANDOMKEY.
// RENAME/COPY/MOVE are in rename_commands.cc, SCAN in scan_command.cc, OBJECT in
// object_command.cc.
#include <atomic>
#include <random>

#include "common/glob.h"
#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

using storage::Entry;

// An operation applied to each key of DEL/EXISTS/TOUCH; returns what that key adds to the count.
using KeyCounter = int64_t (*)(storage::Db& db, std::string_view key, int64_t now_ms);

int64_t DeleteKey(storage::Db& db, std::string_view key, int64_t now) {
  return db.Erase(key, now) ? 1 : 0;
}
int64_t UnlinkKey(storage::Db& db, std::string_view key, int64_t now) {
  return db.EraseLazily(key, now) ? 1 : 0;
}
int64_t KeyExists(storage::Db& db, std::string_view key, int64_t now) {
  return db.Find(key, now, kReadNoTouch) != nullptr ? 1 : 0;
}
int64_t TouchKey(storage::Db& db, std::string_view key, int64_t now) {
  return db.Find(key, now, kRead) != nullptr ? 1 : 0;
}

template <KeyCounter op>
void CountKeys(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) n += op(ctx.db(), ctx.arg(i), ctx.now_ms());
  ctx.reply().Integer(n);
}

void Type(CommandContext& ctx) {
  Entry* e = ctx.db().Find(ctx.arg(1), ctx.now_ms(), kReadNoTouch);
  ctx.reply().SimpleString(e == nullptr ? "none" : storage::TypeName(e->value.type()));
}

void Keys(CommandContext& ctx) {
  auto pattern = std::make_shared<const std::string>(ctx.arg(1));
  size_t n = ctx.server().shards->size();
  auto found = std::make_shared<std::vector<std::vector<std::string>>>(n);
  int db = ctx.db_index();
  ctx.FanOutAll(
      [pattern, found, db](shard::Shard& s) {
        std::vector<std::string>& out = (*found)[s.id()];
        storage::Db& d = s.db(db);
        int64_t now = UnixTimeMs();
        bool all = *pattern == "*";
        uint64_t cursor = 0;
        do {
          cursor = d.Scan(cursor, now, [&](Entry* e) {
            if (all || GlobMatch(*pattern, e->key_view())) out.emplace_back(e->key_view());
          });
        } while (cursor != 0);
      },
      [found](CommandContext& c) {
        size_t total = 0;
        for (const auto& v : *found) total += v.size();
        c.reply().ArrayHeader(total);
        for (const auto& v : *found) {
          for (const std::string& k : v) c.reply().Bulk(k);
        }
      });
}

void RandomKey(CommandContext& ctx) {
  size_t n = ctx.server().shards->size();
  struct Pick {
    std::string key;
    size_t size = 0;
    bool found = false;
  };
  auto picks = std::make_shared<std::vector<Pick>>(n);
  int db = ctx.db_index();
  ctx.FanOutAll(
      [picks, db](shard::Shard& s) {
        storage::Db& d = s.db(db);
        Pick& p = (*picks)[s.id()];
        Entry* e = d.RandomEntry(UnixTimeMs());
        p.size = d.size();
        if (e != nullptr) {
          p.key = std::string(e->key_view());
          p.found = true;
        }
      },
      [picks](CommandContext& c) {
        // Choose a shard with probability proportional to its key count.
        size_t total = 0;
        for (const Pick& p : *picks) total += p.found ? p.size : 0;
        if (total == 0) return c.reply().Null();
        thread_local std::mt19937_64 rng{std::random_device{}()};
        size_t r = rng() % total;
        for (const Pick& p : *picks) {
          if (!p.found) continue;
          if (r < p.size) return c.reply().Bulk(p.key);
          r -= p.size;
        }
        c.reply().Null();
      });
}

}  // namespace

void RegisterKeyCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "del", .arity = -2, .flags = kWrite, .first_key = 1, .last_key = -1,
             .key_step = 1, .handler = CountKeys<DeleteKey>, .split = SplitMerge::kSumIntegers});
  table.Add({.name = "unlink", .arity = -2, .flags = kWrite | kFast, .first_key = 1,
             .last_key = -1, .key_step = 1, .handler = CountKeys<UnlinkKey>, .split = SplitMerge::kSumIntegers});
  table.Add({.name = "exists", .arity = -2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = -1, .key_step = 1, .handler = CountKeys<KeyExists>, .split = SplitMerge::kSumIntegers});
  table.Add({.name = "touch", .arity = -2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = -1, .key_step = 1, .handler = CountKeys<TouchKey>, .split = SplitMerge::kSumIntegers});
  table.Add({.name = "type", .arity = 2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Type});
  table.Add({.name = "keys", .arity = 2, .flags = kReadOnly, .handler = Keys});
  table.Add({.name = "randomkey", .arity = 1, .flags = kReadOnly, .handler = RandomKey});
}

}  // namespace shoal::cmd
