// Listpack: a sequence of strings and integers packed into one malloc'd buffer, in the byte
// format Redis 7 uses (so a later DUMP/RDB can hand the bytes over as they are).
//
//   <total-bytes uint32> <num-entries uint16> <entry> ... <entry> <0xFF>
//   entry = <encoding+data> <backlen>
//
// Integers that fit 64 bits and are written canonically are stored as integers (7 to 64-bit
// forms), everything else as strings with a 6, 12 or 32-bit length. `backlen` holds the size of
// <encoding+data> in 1-5 bytes read right to left, so the list can be walked backwards.
// num-entries saturates at 65535 ("unknown"); Length() then counts.
//
// Small hashes, sorted sets and each node of a list use this. Every mutation may realloc the
// buffer: the functions return the new buffer pointer, and positions (uint8_t* to an entry) are
// invalidated except those they hand back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::storage::lp {

// One entry's content: an integer, or a string that `str` points at inside the buffer.
struct Item {
  std::string_view str;
  int64_t ival = 0;
  bool is_int = false;

  // The entry as text; integers are formatted into `scratch`.
  std::string_view View(std::string* scratch) const;
  bool Equals(std::string_view s) const;
};

inline constexpr size_t kHeaderSize = 6;
inline constexpr uint8_t kEof = 0xFF;

uint8_t* New(size_t capacity = 0);
void Free(uint8_t* lp);
uint8_t* Clone(const uint8_t* lp);

size_t Bytes(const uint8_t* lp);
size_t Length(const uint8_t* lp);
// Bytes a string (or integer) would take as an entry, backlen included.
size_t EntrySize(std::string_view s);

// Positions. nullptr means "none" (empty list, walked off an end).
uint8_t* First(uint8_t* lp);
uint8_t* Last(uint8_t* lp);
uint8_t* Next(uint8_t* lp, uint8_t* p);
uint8_t* Prev(uint8_t* lp, uint8_t* p);
// The entry at `index`; negative counts from the end (-1 is the last). nullptr if out of range.
uint8_t* Seek(uint8_t* lp, int64_t index);
inline const uint8_t* First(const uint8_t* lp) { return First(const_cast<uint8_t*>(lp)); }
inline const uint8_t* Next(const uint8_t* lp, const uint8_t* p) {
  return Next(const_cast<uint8_t*>(lp), const_cast<uint8_t*>(p));
}

Item Get(const uint8_t* p);
// Appends the entry's text to `out`.
void AppendTo(const uint8_t* p, std::string* out);

// Searches from `p` for an entry equal to `s`, comparing one entry then skipping `skip` (1 finds
// hash fields or zset members among field,value pairs). nullptr if not found.
uint8_t* Find(uint8_t* lp, uint8_t* p, std::string_view s, unsigned skip);

enum class Where { kBefore, kAfter, kReplace };
// Inserts `s` before/after the entry at `p`, or replaces it. `*newp` (if non-null) receives the
// position of the inserted/replacing entry. Returns the (possibly moved) buffer.
uint8_t* Insert(uint8_t* lp, std::string_view s, uint8_t* p, Where where, uint8_t** newp);
uint8_t* Append(uint8_t* lp, std::string_view s);
uint8_t* Prepend(uint8_t* lp, std::string_view s);
// The integer form is stored directly (no formatting and re-parsing).
uint8_t* AppendInt(uint8_t* lp, int64_t v);
// Replaces the entry at *p in place; *p is updated to the new entry's position.
uint8_t* Replace(uint8_t* lp, uint8_t** p, std::string_view s);
// Deletes the entry at *p; *p becomes the entry that followed (nullptr if it was the last).
uint8_t* Delete(uint8_t* lp, uint8_t** p);
// Deletes `count` entries starting at *p (fewer if the end comes first); *p as in Delete.
uint8_t* DeleteRange(uint8_t* lp, uint8_t** p, size_t count);
// Deletes `count` entries starting at `index` (negative from the end).
uint8_t* DeleteRange(uint8_t* lp, int64_t index, size_t count);

// Redis refuses to grow a listpack past 1 GB; collections convert before that.
bool SafeToAdd(const uint8_t* lp, size_t add);

}  // namespace shoal::storage::lp
