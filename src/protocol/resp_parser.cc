#include "protocol/resp_parser.h"

#include <cstring>

#include "common/strings.h"

namespace shoal::protocol {

void RespParser::Reset() {
  in_multibulk_ = false;
  bulks_total_ = 0;
  pos_ = 0;
  spans_.clear();
  expected_size_ = 0;
}

ParseState RespParser::Fail(std::string message) {
  error_ = std::move(message);
  Reset();
  return ParseState::kError;
}

ParseState RespParser::Parse(std::string_view buf, ArgList* args, size_t* consumed) {
  args->clear();
  *consumed = 0;
  if (!in_multibulk_) {
    if (buf.empty()) return ParseState::kNeedMore;
    if (buf[0] != '*') return ParseInline(buf, args, consumed);
  }
  return ParseMultibulk(buf, args, consumed);
}

// Finds the CR ending a header line that starts at `from`; Redis needs the byte after it (LF)
// to have arrived too, but does not check what it is.
static size_t FindLineEnd(std::string_view buf, size_t from) {
  const void* cr = memchr(buf.data() + from, '\r', buf.size() - from);
  if (cr == nullptr) return std::string_view::npos;
  size_t at = static_cast<const char*>(cr) - buf.data();
  if (at + 1 >= buf.size()) return std::string_view::npos;
  return at;
}

ParseState RespParser::ParseMultibulk(std::string_view buf, ArgList* args, size_t* consumed) {
  if (!in_multibulk_) {
    size_t cr = FindLineEnd(buf, 0);
    if (cr == std::string_view::npos) {
      if (buf.size() > kInlineMaxSize) return Fail("Protocol error: too big mbulk count string");
      return ParseState::kNeedMore;
    }
    std::optional<int64_t> count = ParseInt64(buf.substr(1, cr - 1));
    if (!count || *count > kMaxMultibulkLen) {
      return Fail("Protocol error: invalid multibulk length");
    }
    if (*count <= 0) {
      *consumed = cr + 2;
      return ParseState::kEmpty;
    }
    in_multibulk_ = true;
    bulks_total_ = *count;
    pos_ = cr + 2;
    spans_.clear();
    // Reserve modestly: a client may announce a huge count and never send it.
    spans_.reserve(static_cast<size_t>(std::min<int64_t>(*count, 1024)));
  }
  while (static_cast<int64_t>(spans_.size()) < bulks_total_) {
    if (pos_ >= buf.size()) return ParseState::kNeedMore;
    size_t cr = FindLineEnd(buf, pos_);
    if (cr == std::string_view::npos) {
      if (buf.size() - pos_ > kInlineMaxSize) {
        return Fail("Protocol error: too big bulk count string");
      }
      return ParseState::kNeedMore;
    }
    if (buf[pos_] != '$') {
      return Fail(std::string("Protocol error: expected '$', got '") + buf[pos_] + "'");
    }
    std::optional<int64_t> len = ParseInt64(buf.substr(pos_ + 1, cr - pos_ - 1));
    if (!len || *len < 0 || *len > max_bulk_len_) {
      return Fail("Protocol error: invalid bulk length");
    }
    size_t data_start = cr + 2;
    size_t data_end = data_start + static_cast<size_t>(*len);
    if (data_end + 2 > buf.size()) {
      expected_size_ = data_end + 2;
      return ParseState::kNeedMore;
    }
    spans_.emplace_back(static_cast<uint32_t>(data_start), static_cast<uint32_t>(*len));
    pos_ = data_end + 2;  // Redis skips the CRLF after the data without checking it.
  }
  args->reserve(spans_.size());
  for (const auto& [off, len] : spans_) args->push_back(buf.substr(off, len));
  *consumed = pos_;
  Reset();
  return ParseState::kCommand;
}

ParseState RespParser::ParseInline(std::string_view buf, ArgList* args, size_t* consumed) {
  const void* lf = memchr(buf.data(), '\n', buf.size());
  if (lf == nullptr) {
    if (buf.size() > kInlineMaxSize) return Fail("Protocol error: too big inline request");
    return ParseState::kNeedMore;
  }
  size_t end = static_cast<const char*>(lf) - buf.data();
  std::string_view line = buf.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  *consumed = end + 1;
  inline_tokens_.clear();
  if (!SplitInlineArgs(line, &inline_tokens_)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  if (inline_tokens_.empty()) return ParseState::kEmpty;
  for (const std::string& t : inline_tokens_) args->push_back(t);
  return ParseState::kCommand;
}

}  // namespace shoal::protocol
