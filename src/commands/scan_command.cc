// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], over all shards.
//
// Cursor layout: the low 8 bits name the shard being walked, the rest is that shard's Dict
// cursor (reverse-binary, so it survives resizes). A shard's walk ending moves the cursor to the
// next shard; the last shard's ending returns 0. Each call visits one shard.
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "common/glob.h"
#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

constexpr int kShardBits = 8;
constexpr uint64_t kShardMask = (1u << kShardBits) - 1;


struct ScanOptions {
  std::string pattern;
  bool use_pattern = false;
  int64_t count = 10;
  std::string type;
  bool use_type = false;
};

struct ScanState {
  std::shared_ptr<ScanOptions> options;
  int db = 0;
  size_t num_shards = 1;
  std::vector<std::string> keys;
  uint64_t next = 0;  // The walked shard's Dict cursor after its visit.
};

void ReplyScan(CommandContext& c, const ScanState& st, uint64_t cursor) {
  c.reply().ArrayHeader(2);
  c.reply().Bulk(std::to_string(cursor));
  c.reply().ArrayHeader(st.keys.size());
  for (const std::string& k : st.keys) c.reply().Bulk(k);
}

// Visits `shard` from `dict_cursor`. When that shard's walk ends with room left in COUNT, the
// scan goes on to the next shard in the same call, so a small keyspace is scanned in one call
// (cursor 0 at once), as with Redis.
void ScanShard(CommandContext& ctx, std::shared_ptr<ScanState> st, shard::ShardId shard,
               uint64_t dict_cursor) {
  ctx.FanOut(
      {shard},
      [st, dict_cursor](shard::Shard& s) {
        const ScanOptions& o = *st->options;
        storage::Db& d = s.db(st->db);
        int64_t now = UnixTimeMs();
        uint64_t c = dict_cursor;
        // As Redis: about `count` buckets' worth, and at most 10x that in empty buckets.
        int64_t budget = o.count > INT64_MAX / 10 ? INT64_MAX : o.count * 10;
        do {
          c = d.Scan(c, now, [&](storage::Entry* e) {
            if (o.use_pattern && !GlobMatch(o.pattern, e->key_view())) return;
            if (o.use_type && !EqualsIgnoreCase(o.type, storage::TypeName(e->value.type()))) {
              return;
            }
            st->keys.emplace_back(e->key_view());
          });
        } while (c != 0 && --budget > 0 && static_cast<int64_t>(st->keys.size()) < o.count);
        st->next = c;
      },
      [st, shard](CommandContext& c) {
        if (st->next != 0) return ReplyScan(c, *st, (st->next << kShardBits) | shard);
        if (shard + 1 >= st->num_shards) return ReplyScan(c, *st, 0);
        if (static_cast<int64_t>(st->keys.size()) >= st->options->count) {
          return ReplyScan(c, *st, shard + 1);
        }
        ScanShard(c, st, shard + 1, 0);
      });
}

void Scan(CommandContext& ctx) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(1));
  if (!cursor) return ctx.ReplyError("ERR invalid cursor");
  auto o = std::make_shared<ScanOptions>();
  for (size_t i = 2; i < ctx.argc();) {
    size_t left = ctx.argc() - i;
    if (ArgIs(ctx.arg(i), "COUNT") && left >= 2) {
      std::optional<int64_t> n = IntArgOrReply(ctx, i + 1);
      if (!n) return;
      if (*n < 1) return ctx.ReplyError(Status::Syntax());
      o->count = *n;
      i += 2;
    } else if (ArgIs(ctx.arg(i), "MATCH") && left >= 2) {
      o->pattern = std::string(ctx.arg(i + 1));
      o->use_pattern = o->pattern != "*";
      i += 2;
    } else if (ArgIs(ctx.arg(i), "TYPE") && left >= 2) {
      o->type = std::string(ctx.arg(i + 1));
      o->use_type = true;
      i += 2;
    } else {
      return ctx.ReplyError(Status::Syntax());
    }
  }
  size_t num_shards = ctx.server().shards->size();
  shard::ShardId shard = static_cast<shard::ShardId>(*cursor & kShardMask);
  uint64_t dict_cursor = *cursor >> kShardBits;
  if (shard >= num_shards) {
    // Not a cursor we handed out: end the scan, as Redis does for a cursor past its table.
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk("0");
    ctx.reply().ArrayHeader(0);
    return;
  }
  auto out = std::make_shared<ScanState>();
  out->options = std::move(o);
  out->db = ctx.db_index();
  out->num_shards = num_shards;
  ScanShard(ctx, out, shard, dict_cursor);
}

}  // namespace

void RegisterScanCommand(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "scan", .arity = -2, .flags = kReadOnly, .handler = Scan});
}

}  // namespace shoal::cmd
