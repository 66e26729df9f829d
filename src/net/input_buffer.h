// InputBuffer: a connection's unparsed input. Bytes are appended at the back by read(2) and
// consumed from the front by the parser. Unlike std::string it grows without zero-filling the
// space it is about to read into (a 16 KiB memset per read would cost more than the parse).
#pragma once

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace shoal::net {

class InputBuffer {
 public:
  InputBuffer() = default;
  ~InputBuffer() { free(data_); }
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // Unconsumed bytes.
  std::string_view view() const { return std::string_view(data_ + start_, end_ - start_); }
  size_t size() const { return end_ - start_; }
  bool empty() const { return start_ == end_; }

  // Space for at least `n` more bytes at the back; returns where to write them.
  char* PrepareAppend(size_t n) {
    if (capacity_ - end_ < n) {
      // Slide unread bytes to the front first; grow only if that is not enough.
      if (start_ > 0) {
        memmove(data_, data_ + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      if (capacity_ - end_ < n) {
        size_t want = std::max(capacity_ * 2, end_ + n);
        data_ = static_cast<char*>(realloc(data_, want));
        capacity_ = want;
      }
    }
    return data_ + end_;
  }
  void CommitAppend(size_t n) { end_ += n; }
  void Consume(size_t n) {
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;
  }
  // Returns memory after a burst (a huge value or pipeline) once the buffer is drained.
  void ShrinkIfIdle(size_t keep) {
    if (empty() && capacity_ > keep) {
      free(data_);
      data_ = nullptr;
      capacity_ = 0;
    }
  }

 private:
  char* data_ = nullptr;
  size_t start_ = 0;
  size_t end_ = 0;
  size_t capacity_ = 0;
};

}  // namespace shoal::net
