#include "storage/list_object.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/strings.h"
#include "storage/encoding_limits.h"
#include "storage/objects.h"

namespace shoal::storage {

namespace {

// Redis's optimization_level: node size caps for fill -1..-5.
constexpr size_t kSizeLimits[] = {4096, 8192, 16384, 32768, 65536};
// Redis's SIZE_SAFETY_LIMIT: with a count-based fill a node still stays under 8 KB.
constexpr size_t kSafetyLimit = 8192;
constexpr int64_t kFillMax = 32767;
// A listpack's header and EOF byte: what concatenating two listpacks saves.
constexpr size_t kLpOverhead = lp::kHeaderSize + 1;

// Writes a listpack header (listpack.h: total bytes uint32 LE, entry count uint16 LE, 65535
// meaning "count unknown").
void SetHeader(uint8_t* lp, size_t bytes, size_t count) {
  for (int i = 0; i < 4; ++i) lp[i] = static_cast<uint8_t>(bytes >> (8 * i));
  uint16_t n = count >= 65535 ? 65535 : static_cast<uint16_t>(count);
  lp[4] = static_cast<uint8_t>(n);
  lp[5] = static_cast<uint8_t>(n >> 8);
}

// Deletes from node `lp` the matching entries after skipping the first `keep` matches, at most
// `budget` of them, in one pass that slides the kept entries down. Adds the deletions to
// *deleted. Returns the (reallocated) listpack, possibly empty.
uint8_t* CompactNode(uint8_t* lp, const ElementMatcher& m, size_t keep, size_t budget,
                     size_t* deleted) {
  size_t count = lp::Length(lp);
  size_t gone = 0;
  uint8_t* p = lp::First(lp);
  uint8_t* w = p;
  while (p != nullptr) {
    uint8_t* next = lp::Next(lp, p);
    size_t sz = (next != nullptr ? next : lp + lp::Bytes(lp) - 1) - p;
    bool drop = false;
    if (gone < budget && m.Matches(p)) {
      if (keep > 0) {
        --keep;
      } else {
        drop = true;
      }
    }
    if (drop) {
      ++gone;
    } else {
      if (w != p) memmove(w, p, sz);
      w += sz;
    }
    p = next;
  }
  if (gone == 0) return lp;
  *w = lp::kEof;
  size_t bytes = w + 1 - lp;
  SetHeader(lp, bytes, count - gone);
  *deleted += gone;
  return static_cast<uint8_t*>(realloc(lp, bytes));
}

size_t CountMatches(uint8_t* lp, const ElementMatcher& m) {
  size_t n = 0;
  for (uint8_t* p = lp::First(lp); p != nullptr; p = lp::Next(lp, p)) n += m.Matches(p);
  return n;
}

// The index of entry `p` within its listpack.
size_t IndexInNode(uint8_t* lp, uint8_t* p) {
  size_t k = 0;
  for (uint8_t* q = lp::First(lp); q != p; q = lp::Next(lp, q)) ++k;
  return k;
}

uint8_t* NewNode(std::string_view s) { return lp::Append(lp::New(), s); }

}  // namespace

ElementMatcher::ElementMatcher(std::string_view s) : s_(s) {
  if (s.size() <= kMaxInt64Chars) {
    std::optional<int64_t> v = ParseInt64(s);
    if (v) {
      is_int_ = true;
      ival_ = *v;
    }
  }
}

bool ElementMatcher::Matches(const uint8_t* p) const {
  lp::Item it = lp::Get(p);
  return is_int_ ? (it.is_int && it.ival == ival_) : (!it.is_int && it.str == s_);
}

uint8_t* ConcatListpacks(uint8_t* a, const uint8_t* b) {
  size_t ab = lp::Bytes(a), bb = lp::Bytes(b);
  size_t count = lp::Length(a) + lp::Length(b);
  size_t bytes = ab + bb - kLpOverhead;
  a = static_cast<uint8_t*>(realloc(a, bytes));
  // b's entries and its EOF replace a's EOF.
  memcpy(a + ab - 1, b + lp::kHeaderSize, bb - lp::kHeaderSize);
  SetHeader(a, bytes, count);
  return a;
}

// ---- construction ----

Quicklist::Quicklist(int64_t fill) : single_(nullptr) {
  fill_ = static_cast<int16_t>(std::clamp<int64_t>(fill, -5, kFillMax));
}

Quicklist::~Quicklist() {
  for (uint32_t i = 0; i < len_; ++i) lp::Free(mut(i));
  if (cap_ > 1) free(ring_);
}

Quicklist* Quicklist::Create() { return new Quicklist(Limit(Limits().list_max_listpack_size)); }

Quicklist* Quicklist::Clone() const {
  auto* q = new Quicklist(fill_);
  q->count_ = count_;
  q->len_ = len_;
  if (len_ <= 1) {
    q->cap_ = 1;
    q->single_ = len_ == 1 ? lp::Clone(node(0)) : nullptr;
    return q;
  }
  q->cap_ = len_;
  q->ring_ = static_cast<uint8_t**>(malloc(sizeof(uint8_t*) * len_));
  for (uint32_t i = 0; i < len_; ++i) q->ring_[i] = lp::Clone(node(i));
  return q;
}

size_t Quicklist::HeapBytes() const {
  size_t n = sizeof(*this) + (cap_ > 1 ? cap_ * sizeof(uint8_t*) : 0);
  for (uint32_t i = 0; i < len_; ++i) n += lp::Bytes(node(i));
  return n;
}

// ---- limits ----

bool Quicklist::Fits(size_t bytes, size_t count) const {
  if (fill_ < 0) return bytes <= kSizeLimits[-fill_ - 1];
  // Fill 0 behaves as in Redis: no node ever takes a second entry.
  return bytes <= kSafetyLimit && count <= static_cast<size_t>(std::max<int>(fill_, 1));
}

bool Quicklist::CanAdd(const uint8_t* lp, size_t entry_bytes) const {
  return Fits(lp::Bytes(lp) + entry_bytes, lp::Length(lp) + 1);
}

bool Quicklist::CanAddElement(const uint8_t* lp, std::string_view s) const {
  // An entry never takes more than its bytes plus a 5-byte header and a 5-byte backlen.
  if (Fits(lp::Bytes(lp) + s.size() + 10, lp::Length(lp) + 1)) return true;
  return CanAdd(lp, lp::EntrySize(s));
}

// ---- the node array ----

void Quicklist::Resize(uint32_t new_cap, uint32_t new_head) {
  auto** ring = static_cast<uint8_t**>(malloc(sizeof(uint8_t*) * new_cap));
  for (uint32_t i = 0; i < len_; ++i) ring[new_head + i] = mut(i);
  if (cap_ > 1) free(ring_);
  ring_ = ring;
  cap_ = new_cap;
  head_ = new_head;
}

void Quicklist::AppendNode(uint8_t* lp) {
  count_ += lp::Length(lp);
  InsertNode(len_, lp);
}

void Quicklist::InsertNode(uint32_t i, uint8_t* lp) {
  if (len_ == 0 && cap_ <= 1) {
    cap_ = 1;
    head_ = 0;
    single_ = lp;
    len_ = 1;
    return;
  }
  // Shift whichever side of `i` holds fewer nodes; make room there first if there is none.
  bool front = i < len_ - i;
  if (cap_ <= 1 || (front ? head_ == 0 : head_ + len_ == cap_)) {
    uint32_t new_cap = std::max<uint32_t>(4, 2 * (len_ + 1));
    Resize(new_cap, (new_cap - len_) / 2);
  }
  uint8_t** s = ring_;
  if (front) {
    memmove(s + head_ - 1, s + head_, sizeof(uint8_t*) * i);
    --head_;
  } else {
    memmove(s + head_ + i + 1, s + head_ + i, sizeof(uint8_t*) * (len_ - i));
  }
  s[head_ + i] = lp;
  ++len_;
}

void Quicklist::EraseNodes(uint32_t i, uint32_t k) {
  if (k == 0) return;
  uint8_t** s = slots();
  if (i < len_ - i - k) {
    memmove(s + head_ + k, s + head_, sizeof(uint8_t*) * i);
    head_ += k;
  } else {
    memmove(s + head_ + i, s + head_ + i + k, sizeof(uint8_t*) * (len_ - i - k));
  }
  len_ -= k;
  if (cap_ > 1 && len_ <= 1) {
    // Back to the inline form: a one-node list needs no array.
    uint8_t* only = len_ == 1 ? ring_[head_] : nullptr;
    free(ring_);
    single_ = only;
    cap_ = 1;
    head_ = 0;
  } else if (cap_ >= 16 && len_ * 4 < cap_) {
    uint32_t new_cap = 2 * len_;
    Resize(new_cap, (new_cap - len_) / 2);
  }
}

void Quicklist::SplitNode(uint32_t i, size_t offset) {
  uint8_t* left = mut(i);
  size_t count = lp::Length(left);
  uint8_t* right = lp::DeleteRange(lp::Clone(left), int64_t{0}, offset);
  node_ref(i) = lp::DeleteRange(left, static_cast<int64_t>(offset), count - offset);
  InsertNode(i + 1, right);
}

bool Quicklist::TryMergeNext(uint32_t i) {
  if (i + 1 >= len_) return false;
  uint8_t* a = mut(i);
  uint8_t* b = mut(i + 1);
  if (!Fits(lp::Bytes(a) + lp::Bytes(b) - kLpOverhead, lp::Length(a) + lp::Length(b))) {
    return false;
  }
  node_ref(i) = ConcatListpacks(a, b);
  lp::Free(b);
  EraseNodes(i + 1, 1);
  return true;
}

void Quicklist::MergeAround(uint32_t c) {
  if (c >= 2 && TryMergeNext(c - 2)) --c;
  if (c + 2 < len_) TryMergeNext(c + 1);
  if (c >= 1 && TryMergeNext(c - 1)) --c;
  TryMergeNext(c);
}

// ---- ends ----

void Quicklist::Push(ListEnd end, std::string_view s) {
  const bool head = end == ListEnd::kHead;
  ++count_;
  if (len_ > 0) {
    uint8_t*& n = node_ref(head ? 0 : len_ - 1);
    if (CanAddElement(n, s)) {
      n = head ? lp::Prepend(n, s) : lp::Append(n, s);
      return;
    }
  }
  InsertNode(head ? 0 : len_, NewNode(s));
}

void Quicklist::Pop(ListEnd end, std::string* out) {
  const uint32_t i = end == ListEnd::kHead ? 0 : len_ - 1;
  uint8_t*& n = node_ref(i);
  uint8_t* p = end == ListEnd::kHead ? lp::First(n) : lp::Last(n);
  lp::AppendTo(p, out);
  --count_;
  if (lp::Length(n) == 1) {
    lp::Free(n);
    EraseNodes(i, 1);
  } else {
    n = lp::Delete(n, &p);
  }
}

// ---- positions ----

Quicklist::Pos Quicklist::Seek(int64_t index) const {
  const int64_t count = static_cast<int64_t>(count_);
  if (index < 0) index += count;
  if (index < 0 || index >= count) return {};
  auto* self = const_cast<Quicklist*>(this);
  if (index < count / 2) {
    uint32_t i = 0;
    for (int64_t n; index >= (n = static_cast<int64_t>(lp::Length(node(i)))); ++i) index -= n;
    return {i, lp::Seek(self->mut(i), index)};
  }
  int64_t back = count - 1 - index;  // Distance from the tail.
  uint32_t i = len_ - 1;
  for (int64_t n; back >= (n = static_cast<int64_t>(lp::Length(node(i)))); --i) back -= n;
  return {i, lp::Seek(self->mut(i), -1 - back)};
}

void Quicklist::Next(Pos* pos) const {
  auto* self = const_cast<Quicklist*>(this);
  pos->p = lp::Next(self->mut(pos->node), pos->p);
  if (pos->p == nullptr && pos->node + 1 < len_) {
    ++pos->node;
    pos->p = lp::First(self->mut(pos->node));
  }
}

void Quicklist::Prev(Pos* pos) const {
  auto* self = const_cast<Quicklist*>(this);
  pos->p = lp::Prev(self->mut(pos->node), pos->p);
  if (pos->p == nullptr && pos->node > 0) {
    --pos->node;
    pos->p = lp::Last(self->mut(pos->node));
  }
}

Quicklist::Pos Quicklist::FindFirst(std::string_view s) const {
  auto* self = const_cast<Quicklist*>(this);
  for (uint32_t i = 0; i < len_; ++i) {
    uint8_t* n = self->mut(i);
    if (uint8_t* p = lp::Find(n, lp::First(n), s, 0)) return {i, p};
  }
  return {};
}

// ---- edits in the middle ----

void Quicklist::Replace(Pos pos, std::string_view s) {
  uint32_t i = pos.node;
  uint8_t*& n = node_ref(i);
  n = lp::Replace(n, &pos.p, s);
  size_t count = lp::Length(n);
  if (count == 1 || Fits(lp::Bytes(n), count)) return;
  // The node outgrew its limit: give the new element a node of its own, then merge back
  // whatever fits.
  size_t k = IndexInNode(n, pos.p);
  if (k + 1 < count) SplitNode(i, k + 1);
  if (k > 0) {
    SplitNode(i, k);
    ++i;
  }
  MergeAround(i);
}

void Quicklist::Insert(Pos pos, std::string_view s, bool after) {
  const uint32_t i = pos.node;
  uint8_t*& n = node_ref(i);
  const size_t entry = lp::EntrySize(s);
  ++count_;
  if (CanAdd(n, entry)) {
    n = lp::Insert(n, s, pos.p, after ? lp::Where::kAfter : lp::Where::kBefore, nullptr);
    return;
  }
  // The node is full. At its edges, use the neighbour or a new node, as Redis does.
  if (after && lp::Next(n, pos.p) == nullptr) {
    if (i + 1 < len_ && CanAdd(mut(i + 1), entry)) {
      node_ref(i + 1) = lp::Prepend(mut(i + 1), s);
    } else {
      InsertNode(i + 1, NewNode(s));
    }
    return;
  }
  if (!after && pos.p == lp::First(n)) {
    if (i > 0 && CanAdd(mut(i - 1), entry)) {
      node_ref(i - 1) = lp::Append(mut(i - 1), s);
    } else {
      InsertNode(i, NewNode(s));
    }
    return;
  }
  // In the middle: split there, put the element on whichever side takes it, and merge.
  SplitNode(i, IndexInNode(n, pos.p) + (after ? 1 : 0));
  if (CanAdd(mut(i), entry)) {
    node_ref(i) = lp::Append(mut(i), s);
  } else if (CanAdd(mut(i + 1), entry)) {
    node_ref(i + 1) = lp::Prepend(mut(i + 1), s);
  } else {
    InsertNode(i + 1, NewNode(s));
  }
  MergeAround(i + 1);
}

void Quicklist::DeleteRange(size_t start, size_t n) {
  if (n == 0) return;
  // Find the node holding `start`, from the nearer end.
  Pos at = Seek(static_cast<int64_t>(start));
  uint32_t i = at.node;
  size_t k = IndexInNode(mut(i), at.p);  // Offset of `start` in node i.
  count_ -= n;
  // The part of the range inside node i, if the range starts mid-node.
  if (k > 0) {
    size_t del = std::min(n, lp::Length(mut(i)) - k);
    node_ref(i) = lp::DeleteRange(mut(i), static_cast<int64_t>(k), del);
    n -= del;
    ++i;
  }
  // Whole nodes, dropped from the array at once.
  uint32_t first_whole = i;
  while (n > 0 && i < len_ && lp::Length(mut(i)) <= n) {
    n -= lp::Length(mut(i));
    lp::Free(mut(i));
    ++i;
  }
  EraseNodes(first_whole, i - first_whole);
  // The head of the node the range ends in.
  if (n > 0) node_ref(first_whole) = lp::DeleteRange(mut(first_whole), int64_t{0}, n);
  if (len_ > 1) MergeAround(first_whole > 0 ? first_whole - 1 : 0);
}

size_t Quicklist::RemoveMatching(std::string_view s, size_t limit, ListEnd from) {
  const ElementMatcher m(s);
  size_t budget = limit == 0 ? SIZE_MAX : limit;
  size_t deleted = 0;
  // Nodes [lo, hi] are the ones touched; emptied ones are freed and left null until compaction.
  uint32_t lo = len_, hi = 0;
  auto touch = [&](uint32_t i) {
    lo = std::min(lo, i);
    hi = std::max(hi, i);
  };
  if (from == ListEnd::kHead || limit == 0) {
    for (uint32_t i = 0; i < len_ && deleted < budget; ++i) {
      size_t before = deleted;
      node_ref(i) = CompactNode(mut(i), m, 0, budget - deleted, &deleted);
      if (deleted != before) touch(i);
    }
  } else {
    for (uint32_t i = len_; i-- > 0 && deleted < budget;) {
      size_t matches = CountMatches(mut(i), m);
      if (matches == 0) continue;
      size_t take = std::min(matches, budget - deleted);
      node_ref(i) = CompactNode(mut(i), m, matches - take, take, &deleted);
      touch(i);
    }
  }
  if (deleted == 0) return 0;
  count_ -= deleted;
  // Compact the touched span of the array: drop emptied nodes, merge neighbours that now fit.
  uint32_t from_i = lo > 0 ? lo - 1 : lo;
  uint32_t to_i = std::min(hi + 2, len_);  // Exclusive.
  uint8_t** s_nodes = slots() + head_;
  uint32_t w = from_i;
  for (uint32_t r = from_i; r < to_i; ++r) {
    uint8_t* n = s_nodes[r];
    if (lp::Length(n) == 0) {
      lp::Free(n);
      continue;
    }
    if (w > from_i) {
      uint8_t* prev = s_nodes[w - 1];
      if (Fits(lp::Bytes(prev) + lp::Bytes(n) - kLpOverhead, lp::Length(prev) + lp::Length(n))) {
        s_nodes[w - 1] = ConcatListpacks(prev, n);
        lp::Free(n);
        continue;
      }
    }
    s_nodes[w++] = n;
  }
  EraseNodes(w, to_i - w);
  return deleted;
}

// ---- the hooks Value calls (objects.h) ----

void FreeList(ObjectEncoding, void* object) { delete static_cast<Quicklist*>(object); }

void* CloneList(ObjectEncoding, const void* object) {
  return static_cast<const Quicklist*>(object)->Clone();
}

size_t ListHeapBytes(ObjectEncoding, const void* object) {
  return static_cast<const Quicklist*>(object)->HeapBytes();
}

}  // namespace shoal::storage
