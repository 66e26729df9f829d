#include "storage/zset_object.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "storage/encoding_limits.h"
#include "storage/listpack.h"
#include "storage/objects.h"

namespace shoal::storage {

namespace {

// ---- Score text ----

// Redis's double2ll: integral values within +-LLONG_MAX/2 convert exactly.
bool DoubleToInt64(double d, int64_t* out) {
  if (d < static_cast<double>(-LLONG_MAX / 2) || d > static_cast<double>(LLONG_MAX / 2)) {
    return false;
  }
  auto ll = static_cast<int64_t>(d);
  if (static_cast<double>(ll) != d) return false;
  *out = ll;
  return true;
}

// ---- Listpack helpers: entries alternate member, score ----

uint8_t* Lp(const Value& z) { return static_cast<uint8_t*>(z.object()); }
ZSetBig* Big(const Value& z) { return static_cast<ZSetBig*>(z.object()); }
bool IsBig(const Value& z) { return z.object_encoding() == ObjectEncoding::kSkiplist; }

// Redis's zzlStrtod / zzlGetScore.
double LpScore(const uint8_t* sptr) {
  lp::Item it = lp::Get(sptr);
  if (it.is_int) return static_cast<double>(it.ival);
  char buf[128];
  size_t n = it.str.size() < sizeof(buf) - 1 ? it.str.size() : sizeof(buf) - 1;
  memcpy(buf, it.str.data(), n);
  buf[n] = '\0';
  return strtod(buf, nullptr);
}

std::string_view LpMember(const uint8_t* eptr, char (&buf)[24]) {
  lp::Item it = lp::Get(eptr);
  if (!it.is_int) return it.str;
  int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(it.ival));
  return std::string_view(buf, n);
}

// The member entry at `rank`, or nullptr.
uint8_t* LpSeekRank(uint8_t* lp, size_t rank) {
  return lp::Seek(lp, static_cast<int64_t>(rank) * 2);
}

size_t LpLength(const uint8_t* lp) { return lp::Length(lp) / 2; }

uint8_t* LpFind(uint8_t* lp, std::string_view member, double* score) {
  uint8_t* first = lp::First(lp);
  if (first == nullptr) return nullptr;
  uint8_t* eptr = lp::Find(lp, first, member, 1);
  if (eptr != nullptr && score != nullptr) *score = LpScore(lp::Next(lp, eptr));
  return eptr;
}

// Redis's zzlInsert: before the first pair that sorts after (score, member).
uint8_t* LpInsert(uint8_t* lp, std::string_view member, double score) {
  char sbuf[32];
  std::string_view stext(sbuf, ZScoreToListpackText(score, sbuf));
  char mbuf[24];
  for (uint8_t* eptr = lp::First(lp); eptr != nullptr;) {
    uint8_t* sptr = lp::Next(lp, eptr);
    double s = LpScore(sptr);
    if (s > score || (s == score && LpMember(eptr, mbuf) > member)) {
      uint8_t* newp = nullptr;
      lp = lp::Insert(lp, member, eptr, lp::Where::kBefore, &newp);
      return lp::Insert(lp, stext, newp, lp::Where::kAfter, nullptr);
    }
    eptr = lp::Next(lp, sptr);
  }
  lp = lp::Append(lp, member);
  return lp::Append(lp, stext);
}

void ConvertToBig(Value& z) {
  uint8_t* lp = Lp(z);
  auto* big = new ZSetBig();
  char mbuf[24];
  for (uint8_t* eptr = lp::First(lp); eptr != nullptr;) {
    uint8_t* sptr = lp::Next(lp, eptr);
    ZNode* n = ZNode::New(LpMember(eptr, mbuf), LpScore(sptr));
    big->node_bytes += n->alloc_size();
    big->dict.Insert(n);
    big->tree.Insert(n);
    eptr = lp::Next(lp, sptr);
  }
  lp::Free(lp);
  z.set_object(ObjectEncoding::kSkiplist, big);
}

void BigInsert(ZSetBig* big, std::string_view member, double score) {
  ZNode* n = ZNode::New(member, score);
  big->node_bytes += n->alloc_size();
  big->dict.Insert(n);
  big->tree.Insert(n);
}

void BigErase(ZSetBig* big, ZNode* n) {
  big->dict.Remove(n->member());
  big->tree.Erase(n->score, n->member());
  big->node_bytes -= n->alloc_size();
  ZNode::Delete(n);
}

int LexCompare(std::string_view a, const ZLexBound& b) {
  if (b.kind == ZLexBound::kMinusInf) return 1;
  if (b.kind == ZLexBound::kPlusInf) return -1;
  int c = a.compare(b.value);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

size_t ZScoreToListpackText(double score, char* buf) {
  if (std::isnan(score)) return static_cast<size_t>(snprintf(buf, 32, "nan"));
  if (std::isinf(score)) return static_cast<size_t>(snprintf(buf, 32, score > 0 ? "inf" : "-inf"));
  int64_t ll;
  if (DoubleToInt64(score, &ll)) {
    return static_cast<size_t>(snprintf(buf, 32, "%lld", static_cast<long long>(ll)));
  }
  return static_cast<size_t>(snprintf(buf, 32, "%.17g", score));
}

size_t ZScoreToText(double score, char* buf) {
  if (std::isinf(score)) return static_cast<size_t>(snprintf(buf, 32, score > 0 ? "inf" : "-inf"));
  return static_cast<size_t>(snprintf(buf, 32, "%.17g", score));
}

// ---- Ranges ----

bool ZScoreGteMin(double v, const ZScoreRange& r) { return r.minex ? v > r.min : v >= r.min; }
bool ZScoreLteMax(double v, const ZScoreRange& r) { return r.maxex ? v < r.max : v <= r.max; }
bool ZScoreRangeEmpty(const ZScoreRange& r) {
  return r.min > r.max || (r.min == r.max && (r.minex || r.maxex));
}

bool ZLexGteMin(std::string_view m, const ZLexRange& r) {
  int c = LexCompare(m, r.min);
  return r.minex ? c > 0 : c >= 0;
}
bool ZLexLteMax(std::string_view m, const ZLexRange& r) {
  int c = LexCompare(m, r.max);
  return r.maxex ? c < 0 : c <= 0;
}

// Redis's sdscmplex(min, max) > 0, or == 0 with an open end. Two infinite bounds of the same kind
// compare equal (Redis compares the shared pointers).
bool ZLexRangeEmpty(const ZLexRange& r) {
  using K = ZLexBound;
  int c;
  if (r.min.kind == r.max.kind && r.min.kind != K::kValue) {
    c = 0;
  } else if (r.min.kind == K::kMinusInf || r.max.kind == K::kPlusInf) {
    c = -1;
  } else if (r.min.kind == K::kPlusInf || r.max.kind == K::kMinusInf) {
    c = 1;
  } else {
    c = r.min.value.compare(r.max.value);
  }
  return c > 0 || (c == 0 && (r.minex || r.maxex));
}

// ---- Creation ----

Value NewZSetFor(std::string_view first_member) {
  const EncodingLimits& l = Limits();
  if (Limit(l.zset_max_listpack_entries) == 0 ||
      static_cast<int64_t>(first_member.size()) > Limit(l.zset_max_listpack_value)) {
    return Value::Object(ValueType::kZSet, ObjectEncoding::kSkiplist, new ZSetBig());
  }
  return Value::Object(ValueType::kZSet, ObjectEncoding::kListpack, lp::New());
}

Value ZSetFromSorted(const std::vector<ZEntry>& sorted) {
  const EncodingLimits& l = Limits();
  size_t max_len = 0, total = 0;
  for (const ZEntry& e : sorted) {
    max_len = std::max(max_len, e.member.size());
    total += e.member.size();
  }
  if (static_cast<int64_t>(sorted.size()) <= Limit(l.zset_max_listpack_entries) &&
      static_cast<int64_t>(max_len) <= Limit(l.zset_max_listpack_value) &&
      lp::SafeToAdd(nullptr, total)) {
    uint8_t* lp = lp::New();
    char sbuf[32];
    for (const ZEntry& e : sorted) {
      lp = lp::Append(lp, e.member);
      lp = lp::Append(lp, std::string_view(sbuf, ZScoreToListpackText(e.score, sbuf)));
    }
    return Value::Object(ValueType::kZSet, ObjectEncoding::kListpack, lp);
  }
  auto* big = new ZSetBig();
  for (const ZEntry& e : sorted) BigInsert(big, e.member, e.score);
  return Value::Object(ValueType::kZSet, ObjectEncoding::kSkiplist, big);
}

// ---- Queries ----

void ZSetConvertToBig(Value& z) { ConvertToBig(z); }

size_t ZSetLength(const Value& z) { return IsBig(z) ? Big(z)->tree.size() : LpLength(Lp(z)); }

std::optional<double> ZSetScore(const Value& z, std::string_view member) {
  if (IsBig(z)) {
    ZNode* n = Big(z)->dict.Find(member);
    if (n == nullptr) return std::nullopt;
    return n->score;
  }
  double score;
  if (LpFind(Lp(z), member, &score) == nullptr) return std::nullopt;
  return score;
}

std::optional<size_t> ZSetRank(const Value& z, std::string_view member) {
  if (IsBig(z)) {
    ZSetBig* big = Big(z);
    ZNode* n = big->dict.Find(member);
    if (n == nullptr) return std::nullopt;
    return big->tree.Rank(n->score, member);
  }
  uint8_t* lp = Lp(z);
  size_t rank = 0;
  for (uint8_t* eptr = lp::First(lp); eptr != nullptr; ++rank) {
    if (lp::Get(eptr).Equals(member)) return rank;
    eptr = lp::Next(lp, lp::Next(lp, eptr));
  }
  return std::nullopt;
}

// ---- Updates ----

bool ZSetAdd(Value& z, double score, std::string_view member, int in_flags, int* out_flags,
             double* new_score) {
  const bool incr = in_flags & kZAddIncr, nx = in_flags & kZAddNx, xx = in_flags & kZAddXx;
  const bool gt = in_flags & kZAddGt, lt = in_flags & kZAddLt;
  *out_flags = 0;
  if (std::isnan(score)) return false;

  // Shared by both encodings: what to do with an existing member. Returns false on NaN; sets
  // *update when the score must change.
  auto existing = [&](double cur, bool* update) {
    *update = false;
    if (nx) {
      *out_flags |= kZAddNop;
      return true;
    }
    if (incr) {
      score += cur;
      if (std::isnan(score)) return false;
    }
    if ((lt && score >= cur) || (gt && score <= cur)) {
      *out_flags |= kZAddNop;
      return true;
    }
    if (new_score != nullptr) *new_score = score;
    if (score != cur) {
      *update = true;
      *out_flags |= kZAddUpdated;
    }
    return true;
  };

  if (!IsBig(z)) {
    uint8_t* lp = Lp(z);
    double cur;
    if (uint8_t* eptr = LpFind(lp, member, &cur); eptr != nullptr) {
      bool update;
      if (!existing(cur, &update)) return false;
      if (update) {
        lp = lp::DeleteRange(lp, &eptr, 2);
        z.set_object(ObjectEncoding::kListpack, LpInsert(lp, member, score));
      }
      return true;
    }
    if (xx) {
      *out_flags |= kZAddNop;
      return true;
    }
    const EncodingLimits& l = Limits();
    if (static_cast<int64_t>(LpLength(lp)) + 1 > Limit(l.zset_max_listpack_entries) ||
        static_cast<int64_t>(member.size()) > Limit(l.zset_max_listpack_value) ||
        !lp::SafeToAdd(lp, member.size())) {
      ConvertToBig(z);
    } else {
      z.set_object(ObjectEncoding::kListpack, LpInsert(lp, member, score));
      if (new_score != nullptr) *new_score = score;
      *out_flags |= kZAddAdded;
      return true;
    }
  }

  ZSetBig* big = Big(z);
  if (ZNode* n = big->dict.Find(member); n != nullptr) {
    bool update;
    if (!existing(n->score, &update)) return false;
    if (update) {
      big->tree.Erase(n->score, member);
      n->score = score;
      big->tree.Insert(n);
    }
    return true;
  }
  if (xx) {
    *out_flags |= kZAddNop;
    return true;
  }
  BigInsert(big, member, score);
  if (new_score != nullptr) *new_score = score;
  *out_flags |= kZAddAdded;
  return true;
}

bool ZSetRemove(Value& z, std::string_view member) {
  if (IsBig(z)) {
    ZSetBig* big = Big(z);
    ZNode* n = big->dict.Find(member);
    if (n == nullptr) return false;
    BigErase(big, n);
    return true;
  }
  uint8_t* lp = Lp(z);
  uint8_t* eptr = LpFind(lp, member, nullptr);
  if (eptr == nullptr) return false;
  z.set_object(ObjectEncoding::kListpack, lp::DeleteRange(lp, &eptr, 2));
  return true;
}

void ZSetDeleteRange(Value& z, size_t start, size_t count) {
  if (count == 0) return;
  if (IsBig(z)) {
    ZSetBig* big = Big(z);
    for (size_t i = 0; i < count; ++i) BigErase(big, ZTree::Get(big->tree.At(start)));
    return;
  }
  uint8_t* lp = Lp(z);
  z.set_object(ObjectEncoding::kListpack,
               lp::DeleteRange(lp, static_cast<int64_t>(start) * 2, count * 2));
}

// ---- Range searches ----

namespace {

// Score or member at an ascending rank (REQUIRES: rank < length).
double ScoreAt(const Value& z, size_t rank) {
  if (IsBig(z)) return ZTree::Get(Big(z)->tree.At(rank))->score;
  return LpScore(lp::Next(Lp(z), LpSeekRank(Lp(z), rank)));
}

std::string MemberAt(const Value& z, size_t rank) {
  ZSetCursor c(z, rank, false);
  return std::string(c.member());
}

// Redis's zslIsInRange / zzlIsInRange.
bool MayHaveScoresIn(const Value& z, const ZScoreRange& r) {
  size_t len = ZSetLength(z);
  if (ZScoreRangeEmpty(r) || len == 0) return false;
  return ZScoreGteMin(ScoreAt(z, len - 1), r) && ZScoreLteMax(ScoreAt(z, 0), r);
}

bool MayHaveMembersIn(const Value& z, const ZLexRange& r) {
  size_t len = ZSetLength(z);
  if (ZLexRangeEmpty(r) || len == 0) return false;
  return ZLexGteMin(MemberAt(z, len - 1), r) && ZLexLteMax(MemberAt(z, 0), r);
}

// Listpack scans as Redis's zzlFirstIn*/zzlLastIn*: the first pair (from the start, or from the
// end) passing `enter`, if it also passes `stay`.
template <typename Enter, typename Stay>
size_t LpScanFirst(const Value& z, Enter enter, Stay stay) {
  uint8_t* lp = Lp(z);
  size_t rank = 0;
  char mbuf[24];
  for (uint8_t* eptr = lp::First(lp); eptr != nullptr; ++rank) {
    uint8_t* sptr = lp::Next(lp, eptr);
    std::string_view m = LpMember(eptr, mbuf);
    double s = LpScore(sptr);
    if (enter(m, s)) return stay(m, s) ? rank : kZNone;
    eptr = lp::Next(lp, sptr);
  }
  return kZNone;
}

template <typename Enter, typename Stay>
size_t LpScanLast(const Value& z, Enter enter, Stay stay) {
  uint8_t* lp = Lp(z);
  size_t rank = LpLength(lp);
  char mbuf[24];
  for (uint8_t* sptr = lp::Last(lp); sptr != nullptr;) {
    uint8_t* eptr = lp::Prev(lp, sptr);
    --rank;
    std::string_view m = LpMember(eptr, mbuf);
    double s = LpScore(sptr);
    if (enter(m, s)) return stay(m, s) ? rank : kZNone;
    sptr = lp::Prev(lp, eptr);
  }
  return kZNone;
}

}  // namespace

size_t ZSetFirstInScoreRange(const Value& z, const ZScoreRange& r) {
  if (!MayHaveScoresIn(z, r)) return kZNone;
  if (!IsBig(z)) {
    return LpScanFirst(
        z, [&](std::string_view, double s) { return ZScoreGteMin(s, r); },
        [&](std::string_view, double s) { return ZScoreLteMax(s, r); });
  }
  const ZTree& t = Big(z)->tree;
  size_t i = t.PartitionPoint([&](const ZNode* n) { return !ZScoreGteMin(n->score, r); });
  if (i >= t.size() || !ZScoreLteMax(ZTree::Get(t.At(i))->score, r)) return kZNone;
  return i;
}

size_t ZSetLastInScoreRange(const Value& z, const ZScoreRange& r) {
  if (!MayHaveScoresIn(z, r)) return kZNone;
  if (!IsBig(z)) {
    return LpScanLast(
        z, [&](std::string_view, double s) { return ZScoreLteMax(s, r); },
        [&](std::string_view, double s) { return ZScoreGteMin(s, r); });
  }
  const ZTree& t = Big(z)->tree;
  size_t i = t.PartitionPoint([&](const ZNode* n) { return ZScoreLteMax(n->score, r); });
  if (i == 0 || !ZScoreGteMin(ZTree::Get(t.At(i - 1))->score, r)) return kZNone;
  return i - 1;
}

size_t ZSetFirstInLexRange(const Value& z, const ZLexRange& r) {
  if (!MayHaveMembersIn(z, r)) return kZNone;
  if (!IsBig(z)) {
    return LpScanFirst(
        z, [&](std::string_view m, double) { return ZLexGteMin(m, r); },
        [&](std::string_view m, double) { return ZLexLteMax(m, r); });
  }
  const ZTree& t = Big(z)->tree;
  size_t i = t.PartitionPoint([&](const ZNode* n) { return !ZLexGteMin(n->member(), r); });
  if (i >= t.size() || !ZLexLteMax(ZTree::Get(t.At(i))->member(), r)) return kZNone;
  return i;
}

size_t ZSetLastInLexRange(const Value& z, const ZLexRange& r) {
  if (!MayHaveMembersIn(z, r)) return kZNone;
  if (!IsBig(z)) {
    return LpScanLast(
        z, [&](std::string_view m, double) { return ZLexLteMax(m, r); },
        [&](std::string_view m, double) { return ZLexGteMin(m, r); });
  }
  const ZTree& t = Big(z)->tree;
  size_t i = t.PartitionPoint([&](const ZNode* n) { return ZLexLteMax(n->member(), r); });
  if (i == 0 || !ZLexGteMin(ZTree::Get(t.At(i - 1))->member(), r)) return kZNone;
  return i - 1;
}

// ---- Cursor ----

ZSetCursor::ZSetCursor(const Value& z, size_t rank, bool reverse)
    : big_(IsBig(z)), reverse_(reverse) {
  if (big_) {
    pos_ = Big(z)->tree.At(rank);
  } else {
    lp_ = Lp(z);
    eptr_ = LpSeekRank(lp_, rank);
  }
}

std::string_view ZSetCursor::member() {
  if (big_) return ZTree::Get(pos_)->member();
  return LpMember(eptr_, buf_);
}

double ZSetCursor::score() const {
  if (big_) return ZTree::Get(pos_)->score;
  return LpScore(lp::Next(lp_, eptr_));
}

void ZSetCursor::Next() {
  if (big_) {
    reverse_ ? ZTree::Prev(&pos_) : ZTree::Next(&pos_);
    return;
  }
  if (reverse_) {
    uint8_t* sptr = lp::Prev(lp_, eptr_);
    eptr_ = sptr != nullptr ? lp::Prev(lp_, sptr) : nullptr;
  } else {
    uint8_t* sptr = lp::Next(lp_, eptr_);
    eptr_ = lp::Next(lp_, sptr);
  }
}

// ---- Scan ----

uint64_t ZSetScan(const Value& z, uint64_t cursor, int64_t count,
                  absl::FunctionRef<void(std::string_view, std::string_view)> fn) {
  if (!IsBig(z)) {
    uint8_t* lp = Lp(z);
    char mbuf[24];
    std::string stext;
    for (uint8_t* eptr = lp::First(lp); eptr != nullptr;) {
      uint8_t* sptr = lp::Next(lp, eptr);
      stext.clear();
      lp::AppendTo(sptr, &stext);
      fn(LpMember(eptr, mbuf), stext);
      eptr = lp::Next(lp, sptr);
    }
    return 0;
  }
  // As Redis's scanGenericCommand for a skiplist zset: COUNT counts members, and the walk stops
  // after 20x COUNT buckets (its list holds two entries per member, and it multiplies COUNT by
  // two before taking ten times it).
  int64_t want = count > INT64_MAX / 20 ? INT64_MAX / 20 : count;
  int64_t budget = want * 20;
  int64_t got = 0;
  char sbuf[32];
  auto& dict = Big(z)->dict;
  do {
    cursor = dict.Scan(cursor, [&](ZNode* n) {
      fn(n->member(), std::string_view(sbuf, ZScoreToText(n->score, sbuf)));
      ++got;
    });
  } while (cursor != 0 && budget-- > 0 && got < want);
  return cursor;
}

// ---- Value hooks (objects.h) ----

void FreeZSet(ObjectEncoding enc, void* object) {
  if (enc == ObjectEncoding::kListpack) return lp::Free(static_cast<uint8_t*>(object));
  auto* big = static_cast<ZSetBig*>(object);
  big->dict.Clear([](ZNode* n) { ZNode::Delete(n); });
  delete big;
}

void* CloneZSet(ObjectEncoding enc, const void* object) {
  if (enc == ObjectEncoding::kListpack) return lp::Clone(static_cast<const uint8_t*>(object));
  const auto* src = static_cast<const ZSetBig*>(object);
  auto* big = new ZSetBig();
  for (ZTree::Pos p = src->tree.At(0); p.valid(); ZTree::Next(&p)) {
    const ZNode* n = ZTree::Get(p);
    BigInsert(big, n->member(), n->score);
  }
  return big;
}

size_t ZSetHeapBytes(ObjectEncoding enc, const void* object) {
  if (enc == ObjectEncoding::kListpack) return lp::Bytes(static_cast<const uint8_t*>(object));
  const auto* big = static_cast<const ZSetBig*>(object);
  return sizeof(ZSetBig) + big->dict.overhead_bytes() + big->tree.bytes() + big->node_bytes;
}

}  // namespace shoal::storage
