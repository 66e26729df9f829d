#include "storage/zset_tree.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace shoal::storage {

// Sizes picked so that nodes fill jemalloc size classes exactly: a leaf is 1024 bytes, an inner
// node 1016 (of a 1024 class).
static constexpr uint32_t kLeafCap = 125;
static constexpr uint32_t kInnerCap = 42;
// Below these a node borrows from or merges with a sibling. A quarter (not half) of the capacity
// leaves room between the merge and split thresholds, so alternating inserts and deletes at a
// boundary cannot make a node split and merge over and over.
static constexpr uint32_t kLeafMin = kLeafCap / 4;
static constexpr uint32_t kInnerMin = kInnerCap / 4;

struct ZTree::Leaf {
  Leaf* prev;
  Leaf* next;
  uint32_t n;
  ZNode* item[kLeafCap];
};

struct ZTree::Inner {
  uint32_t n;
  void* child[kInnerCap];
  ZNode* min[kInnerCap];  // First element under child[i].
  uint64_t count[kInnerCap];
};

static_assert(sizeof(ZTree::Leaf) == 1024);
static_assert(sizeof(ZTree::Inner) <= 1024);

namespace {

// How a full node splits: evenly, or leaving the full node as it is when the new element goes
// past its end (appending to the whole tree) or before its start (prepending).
enum SplitMode { kMid = 0, kAppend = 1, kPrepend = 2 };

struct Key {
  double score;
  std::string_view member;
};

inline bool NodeLess(const ZNode* a, const Key& k) {
  return ZLess(a->score, a->member(), k.score, k.member);
}
inline bool KeyLess(const Key& k, const ZNode* a) {
  return ZLess(k.score, k.member, a->score, a->member());
}

// First i in [0, n) with !(item[i] < k).
uint32_t LowerBound(ZNode* const* items, uint32_t n, const Key& k) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (NodeLess(items[mid], k)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// The child whose subtree holds (or would hold) k: the last i with min[i] <= k, or 0.
template <typename InnerT>
uint32_t ChildFor(const InnerT* in, const Key& k) {
  uint32_t lo = 1, hi = in->n;  // First i in [1, n) with k < min[i].
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (KeyLess(k, in->min[mid])) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo - 1;
}

template <typename T>
void InsertAt(T* arr, uint32_t n, uint32_t pos, T v) {
  memmove(arr + pos + 1, arr + pos, (n - pos) * sizeof(T));
  arr[pos] = v;
}

template <typename T>
void EraseAt(T* arr, uint32_t n, uint32_t pos) {
  memmove(arr + pos, arr + pos + 1, (n - pos - 1) * sizeof(T));
}

}  // namespace

ZNode* ZNode::New(std::string_view member, double score) {
  auto* n = static_cast<ZNode*>(malloc(BytesFor(member.size())));
  if (n == nullptr) throw std::bad_alloc();
  n->next = nullptr;
  n->score = score;
  uint8_t* p = n->tail();
  if (member.size() < kLongLen) {
    p[0] = static_cast<uint8_t>(member.size());
    memcpy(p + 1, member.data(), member.size());
  } else {
    p[0] = kLongLen;
    uint32_t len = static_cast<uint32_t>(member.size());
    memcpy(p + 1, &len, sizeof(len));
    memcpy(p + 5, member.data(), member.size());
  }
  return n;
}

void ZNode::Delete(ZNode* n) { free(n); }

size_t ZNode::alloc_size() const {
  size_t bytes = BytesFor(member().size());
  // jemalloc's small classes: 8, 16, then steps of 16 up to 128, then four per doubling.
  if (bytes <= 128) return (bytes + 15) & ~size_t{15};
  size_t pow = 128;
  while (pow * 2 < bytes) pow *= 2;
  size_t step = pow / 4;
  return (bytes + step - 1) / step * step;
}

ZTree::~ZTree() {
  if (root_ != nullptr) FreeSubtree(root_, height_);
}

void ZTree::FreeSubtree(void* node, int height) {
  if (height > 0) {
    auto* in = static_cast<Inner*>(node);
    for (uint32_t i = 0; i < in->n; ++i) FreeSubtree(in->child[i], height - 1);
  }
  free(node);
}

ZNode* ZTree::Get(Pos p) { return p.leaf->item[p.idx]; }

void ZTree::Next(Pos* p) {
  if (++p->idx < p->leaf->n) return;
  p->leaf = p->leaf->next;
  p->idx = 0;
}

void ZTree::Prev(Pos* p) {
  if (p->idx > 0) {
    --p->idx;
    return;
  }
  p->leaf = p->leaf->prev;
  p->idx = p->leaf != nullptr ? p->leaf->n - 1 : 0;
}

size_t ZTree::bytes() const { return leaves_ * sizeof(Leaf) + inners_ * sizeof(Inner); }

void ZTree::Insert(ZNode* z) {
  const Key k{z->score, z->member()};
  ++size_;
  if (root_ == nullptr) {
    auto* leaf = static_cast<Leaf*>(malloc(sizeof(Leaf)));
    if (leaf == nullptr) throw std::bad_alloc();
    leaf->prev = leaf->next = nullptr;
    leaf->n = 1;
    leaf->item[0] = z;
    root_ = leaf;
    height_ = 0;
    ++leaves_;
    return;
  }
  PathStep path[kMaxHeight];
  int depth = 0;
  void* node = root_;
  for (int h = height_; h > 0; --h) {
    auto* in = static_cast<Inner*>(node);
    uint32_t j = ChildFor(in, k);
    ++in->count[j];
    path[depth++] = {in, j};
    node = in->child[j];
  }
  auto* leaf = static_cast<Leaf*>(node);
  uint32_t pos = LowerBound(leaf->item, leaf->n, k);
  if (pos == 0) SetMinUp(path, depth, z);
  if (leaf->n < kLeafCap) {
    InsertAt(leaf->item, leaf->n, pos, z);
    ++leaf->n;
    return;
  }
  // Full: split off a new right sibling holding items [split, n).
  int mode = kMid;
  uint32_t split = kLeafCap / 2;
  if (pos == kLeafCap && leaf->next == nullptr) {
    mode = kAppend;
    split = kLeafCap;
  } else if (pos == 0 && leaf->prev == nullptr) {
    mode = kPrepend;
    split = 0;
  }
  auto* right = static_cast<Leaf*>(malloc(sizeof(Leaf)));
  if (right == nullptr) throw std::bad_alloc();
  ++leaves_;
  right->n = kLeafCap - split;
  memcpy(right->item, leaf->item + split, right->n * sizeof(ZNode*));
  leaf->n = split;
  right->prev = leaf;
  right->next = leaf->next;
  if (leaf->next != nullptr) leaf->next->prev = right;
  leaf->next = right;
  bool to_left = pos < split || (pos == split && mode != kAppend);
  if (to_left) {
    InsertAt(leaf->item, leaf->n, pos, z);
    ++leaf->n;
  } else {
    InsertAt(right->item, right->n, pos - split, z);
    ++right->n;
  }
  InsertChildAbove(path, depth, leaf->n, right, right->n, right->item[0], mode);
}

// A child at path[depth-1] split: it keeps `left_count` elements and `child` (holding `count`
// elements, first one `min`) goes right after it in the parent, splitting the parent in turn
// when it is full, up to a new root.
void ZTree::InsertChildAbove(PathStep* path, int depth, uint64_t left_count, void* child,
                             uint64_t count, ZNode* min, int mode) {
  for (int d = depth - 1; d >= 0; --d) {
    Inner* p = path[d].inner;
    uint32_t j = path[d].idx;
    p->count[j] = left_count;
    uint32_t pos = j + 1;
    if (p->n < kInnerCap) {
      InsertAt(p->child, p->n, pos, child);
      InsertAt(p->min, p->n, pos, min);
      InsertAt(p->count, p->n, pos, count);
      ++p->n;
      return;
    }
    // Both halves keep at least two children, so every node but a leaf has a sibling to
    // merge with or borrow from.
    uint32_t split = kInnerCap / 2;
    bool to_left = pos <= split;
    if (mode == kAppend && pos == kInnerCap) {
      split = kInnerCap - 1;
      to_left = false;
    } else if (mode == kPrepend && pos == 1) {
      split = 1;
      to_left = true;
    } else {
      mode = kMid;
    }
    auto* right = static_cast<Inner*>(malloc(sizeof(Inner)));
    if (right == nullptr) throw std::bad_alloc();
    ++inners_;
    right->n = kInnerCap - split;
    memcpy(right->child, p->child + split, right->n * sizeof(void*));
    memcpy(right->min, p->min + split, right->n * sizeof(ZNode*));
    memcpy(right->count, p->count + split, right->n * sizeof(uint64_t));
    p->n = split;
    Inner* target = p;
    uint32_t at = pos;
    if (!to_left) {
      target = right;
      at = pos - split;
    }
    InsertAt(target->child, target->n, at, child);
    InsertAt(target->min, target->n, at, min);
    InsertAt(target->count, target->n, at, count);
    ++target->n;
    left_count = 0;
    for (uint32_t i = 0; i < p->n; ++i) left_count += p->count[i];
    count = 0;
    for (uint32_t i = 0; i < right->n; ++i) count += right->count[i];
    child = right;
    min = right->min[0];
  }
  // The root split: grow a level.
  auto* root = static_cast<Inner*>(malloc(sizeof(Inner)));
  if (root == nullptr) throw std::bad_alloc();
  ++inners_;
  root->n = 2;
  root->child[0] = root_;
  root->min[0] =
      height_ == 0 ? static_cast<Leaf*>(root_)->item[0] : static_cast<Inner*>(root_)->min[0];
  root->count[0] = left_count;
  root->child[1] = child;
  root->min[1] = min;
  root->count[1] = count;
  root_ = root;
  ++height_;
}

void ZTree::SetMinUp(PathStep* path, int depth, ZNode* first) {
  for (int d = depth - 1; d >= 0; --d) {
    path[d].inner->min[path[d].idx] = first;
    if (path[d].idx != 0) return;
  }
}

void ZTree::Erase(double score, std::string_view member) {
  const Key k{score, member};
  PathStep path[kMaxHeight];
  int depth = 0;
  void* node = root_;
  for (int h = height_; h > 0; --h) {
    auto* in = static_cast<Inner*>(node);
    uint32_t j = ChildFor(in, k);
    --in->count[j];
    path[depth++] = {in, j};
    node = in->child[j];
  }
  auto* leaf = static_cast<Leaf*>(node);
  uint32_t pos = LowerBound(leaf->item, leaf->n, k);
  EraseAt(leaf->item, leaf->n, pos);
  --leaf->n;
  --size_;
  if (pos == 0 && leaf->n > 0) SetMinUp(path, depth, leaf->item[0]);
  RebalanceAfterErase(path, depth, leaf);
}

void ZTree::RebalanceAfterErase(PathStep* path, int depth, Leaf* leaf) {
  if (depth == 0) {
    if (leaf->n == 0) {
      free(leaf);
      --leaves_;
      root_ = nullptr;
    }
    return;
  }
  if (leaf->n >= kLeafMin) return;
  Inner* p = path[depth - 1].inner;
  uint32_t j = path[depth - 1].idx;
  uint32_t li = j + 1 < p->n ? j : j - 1;
  uint32_t ri = li + 1;
  auto* l = static_cast<Leaf*>(p->child[li]);
  auto* r = static_cast<Leaf*>(p->child[ri]);
  if (l->n + r->n <= kLeafCap) {
    bool l_was_empty = l->n == 0;
    memcpy(l->item + l->n, r->item, r->n * sizeof(ZNode*));
    l->n += r->n;
    l->next = r->next;
    if (r->next != nullptr) r->next->prev = l;
    free(r);
    --leaves_;
    p->count[li] += p->count[ri];
    EraseAt(p->child, p->n, ri);
    EraseAt(p->min, p->n, ri);
    EraseAt(p->count, p->n, ri);
    --p->n;
    if (l_was_empty) {
      p->min[li] = l->item[0];
      if (li == 0) SetMinUp(path, depth - 1, l->item[0]);
    }
    RebalanceInners(path, depth);
    return;
  }
  // Borrow: even the two out. Neither is empty here, so l's first element stays.
  uint32_t total = l->n + r->n;
  uint32_t want_l = total / 2;
  if (l->n < want_l) {
    uint32_t m = want_l - l->n;
    memcpy(l->item + l->n, r->item, m * sizeof(ZNode*));
    memmove(r->item, r->item + m, (r->n - m) * sizeof(ZNode*));
    l->n += m;
    r->n -= m;
  } else {
    uint32_t m = l->n - want_l;
    memmove(r->item + m, r->item, r->n * sizeof(ZNode*));
    memcpy(r->item, l->item + want_l, m * sizeof(ZNode*));
    l->n -= m;
    r->n += m;
  }
  p->count[li] = l->n;
  p->count[ri] = r->n;
  p->min[ri] = r->item[0];
}

// path[depth-1] lost a child: merge or borrow inner nodes upwards, and drop a root left with a
// single child.
void ZTree::RebalanceInners(PathStep* path, int depth) {
  for (int d = depth - 1; d >= 0; --d) {
    Inner* node = path[d].inner;
    if (d == 0) {
      if (node->n == 1) {
        root_ = node->child[0];
        --height_;
        free(node);
        --inners_;
      }
      return;
    }
    if (node->n >= kInnerMin) return;
    Inner* p = path[d - 1].inner;
    uint32_t j = path[d - 1].idx;
    uint32_t li = j + 1 < p->n ? j : j - 1;
    uint32_t ri = li + 1;
    auto* l = static_cast<Inner*>(p->child[li]);
    auto* r = static_cast<Inner*>(p->child[ri]);
    if (l->n + r->n <= kInnerCap) {
      memcpy(l->child + l->n, r->child, r->n * sizeof(void*));
      memcpy(l->min + l->n, r->min, r->n * sizeof(ZNode*));
      memcpy(l->count + l->n, r->count, r->n * sizeof(uint64_t));
      l->n += r->n;
      free(r);
      --inners_;
      p->count[li] += p->count[ri];
      EraseAt(p->child, p->n, ri);
      EraseAt(p->min, p->n, ri);
      EraseAt(p->count, p->n, ri);
      --p->n;
      continue;
    }
    uint32_t total = l->n + r->n;
    uint32_t want_l = total / 2;
    if (l->n < want_l) {
      uint32_t m = want_l - l->n;
      memcpy(l->child + l->n, r->child, m * sizeof(void*));
      memcpy(l->min + l->n, r->min, m * sizeof(ZNode*));
      memcpy(l->count + l->n, r->count, m * sizeof(uint64_t));
      memmove(r->child, r->child + m, (r->n - m) * sizeof(void*));
      memmove(r->min, r->min + m, (r->n - m) * sizeof(ZNode*));
      memmove(r->count, r->count + m, (r->n - m) * sizeof(uint64_t));
      l->n += m;
      r->n -= m;
    } else {
      uint32_t m = l->n - want_l;
      memmove(r->child + m, r->child, r->n * sizeof(void*));
      memmove(r->min + m, r->min, r->n * sizeof(ZNode*));
      memmove(r->count + m, r->count, r->n * sizeof(uint64_t));
      memcpy(r->child, l->child + want_l, m * sizeof(void*));
      memcpy(r->min, l->min + want_l, m * sizeof(ZNode*));
      memcpy(r->count, l->count + want_l, m * sizeof(uint64_t));
      l->n -= m;
      r->n += m;
    }
    uint64_t lc = 0, rc = 0;
    for (uint32_t i = 0; i < l->n; ++i) lc += l->count[i];
    for (uint32_t i = 0; i < r->n; ++i) rc += r->count[i];
    p->count[li] = lc;
    p->count[ri] = rc;
    p->min[ri] = r->min[0];
    return;
  }
}

size_t ZTree::Rank(double score, std::string_view member) const {
  const Key k{score, member};
  size_t rank = 0;
  const void* node = root_;
  for (int h = height_; h > 0; --h) {
    auto* in = static_cast<const Inner*>(node);
    uint32_t j = ChildFor(in, k);
    for (uint32_t i = 0; i < j; ++i) rank += in->count[i];
    node = in->child[j];
  }
  auto* leaf = static_cast<const Leaf*>(node);
  return rank + LowerBound(leaf->item, leaf->n, k);
}

ZTree::Pos ZTree::At(size_t rank) const {
  if (rank >= size_) return Pos{};
  void* node = root_;
  for (int h = height_; h > 0; --h) {
    auto* in = static_cast<Inner*>(node);
    uint32_t j = 0;
    while (rank >= in->count[j]) rank -= in->count[j++];
    node = in->child[j];
  }
  return Pos{static_cast<Leaf*>(node), static_cast<uint32_t>(rank)};
}

size_t ZTree::PartitionPoint(absl::FunctionRef<bool(const ZNode*)> pred) const {
  if (root_ == nullptr) return 0;
  size_t acc = 0;
  const void* node = root_;
  for (int h = height_; h > 0; --h) {
    auto* in = static_cast<const Inner*>(node);
    uint32_t lo = 0, hi = in->n;  // First i with !pred(min[i]).
    while (lo < hi) {
      uint32_t mid = (lo + hi) / 2;
      if (pred(in->min[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) return acc;  // Even the first element fails.
    uint32_t j = lo - 1;
    for (uint32_t i = 0; i < j; ++i) acc += in->count[i];
    node = in->child[j];
  }
  auto* leaf = static_cast<const Leaf*>(node);
  uint32_t lo = 0, hi = leaf->n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (pred(leaf->item[mid])) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return acc + lo;
}

bool ZTree::Verify() const {
  if (root_ == nullptr) return size_ == 0;
  uint64_t count = 0;
  const ZNode *first = nullptr, *last = nullptr;
  if (!VerifySubtree(root_, height_, &count, &first, &last)) return false;
  if (count != size_) return false;
  if (height_ > 0 && static_cast<const Inner*>(root_)->n < 2) return false;
  // The leaf chain visits every element in order.
  size_t seen = 0;
  const ZNode* prev = nullptr;
  for (Pos p = At(0); p.valid(); Next(&p)) {
    const ZNode* z = Get(p);
    if (prev != nullptr && !ZLess(prev->score, prev->member(), z->score, z->member())) {
      return false;
    }
    prev = z;
    ++seen;
  }
  return seen == size_;
}

bool ZTree::VerifySubtree(const void* node, int height, uint64_t* count, const ZNode** first,
                          const ZNode** last) const {
  if (height == 0) {
    auto* leaf = static_cast<const Leaf*>(node);
    if (leaf->n == 0 || leaf->n > kLeafCap) return false;
    for (uint32_t i = 1; i < leaf->n; ++i) {
      const ZNode* a = leaf->item[i - 1];
      const ZNode* b = leaf->item[i];
      if (!ZLess(a->score, a->member(), b->score, b->member())) return false;
    }
    *count = leaf->n;
    *first = leaf->item[0];
    *last = leaf->item[leaf->n - 1];
    return true;
  }
  auto* in = static_cast<const Inner*>(node);
  if (in->n == 0 || in->n > kInnerCap) return false;
  if (in->n < 2) return false;
  uint64_t total = 0;
  const ZNode* prev_last = nullptr;
  for (uint32_t i = 0; i < in->n; ++i) {
    uint64_t c = 0;
    const ZNode *f = nullptr, *l = nullptr;
    if (!VerifySubtree(in->child[i], height - 1, &c, &f, &l)) return false;
    if (c != in->count[i] || f != in->min[i]) return false;
    if (prev_last != nullptr &&
        !ZLess(prev_last->score, prev_last->member(), f->score, f->member())) {
      return false;
    }
    prev_last = l;
    total += c;
    if (i == 0) *first = f;
  }
  *count = total;
  *last = prev_last;
  return true;
}

}  // namespace shoal::storage
