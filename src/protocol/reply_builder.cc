#include "protocol/reply_builder.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "protocol/errors.h"

namespace shoal::protocol {

void ReplyBuilder::Header(char type, size_t n) {
  char buf[32];
  buf[0] = type;
  char* end = absl::numbers_internal::FastIntToBuffer(static_cast<uint64_t>(n), buf + 1);
  end[0] = '\r';
  end[1] = '\n';
  out_->append(buf, end + 2 - buf);
}

void ReplyBuilder::SimpleString(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::Error(std::string_view line) {
  out_->push_back('-');
  size_t start = out_->size();
  out_->append(line);
  for (size_t i = start; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n");
}

void ReplyBuilder::Error(const Status& status, std::string_view command_name) {
  Error(ErrorText(status, command_name));
}

void ReplyBuilder::Integer(int64_t v) {
  char buf[32];
  buf[0] = ':';
  char* end = absl::numbers_internal::FastIntToBuffer(v, buf + 1);
  end[0] = '\r';
  end[1] = '\n';
  out_->append(buf, end + 2 - buf);
}

void ReplyBuilder::Bulk(std::string_view s) {
  Header('$', s.size());
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::Null() { out_->append(resp3_ ? "_\r\n" : "$-1\r\n"); }
void ReplyBuilder::NullArray() { out_->append(resp3_ ? "_\r\n" : "*-1\r\n"); }
void ReplyBuilder::ArrayHeader(size_t n) { Header('*', n); }
void ReplyBuilder::MapHeader(size_t n) { resp3_ ? Header('%', n) : Header('*', 2 * n); }
void ReplyBuilder::SetHeader(size_t n) { Header(resp3_ ? '~' : '*', n); }
void ReplyBuilder::PushHeader(size_t n) { Header(resp3_ ? '>' : '*', n); }

void ReplyBuilder::Double(double v) {
  char buf[64];
  int n;
  if (std::isinf(v)) {
    n = snprintf(buf, sizeof(buf), "%s", v > 0 ? "inf" : "-inf");
  } else {
    n = snprintf(buf, sizeof(buf), "%.17g", v);
  }
  if (resp3_) {
    out_->push_back(',');
    out_->append(buf, n);
    out_->append("\r\n");
  } else {
    Bulk(std::string_view(buf, n));
  }
}

void ReplyBuilder::Bool(bool v) {
  if (resp3_) {
    out_->append(v ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(v ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyBuilder::Verbatim(std::string_view text, std::string_view format) {
  if (!resp3_) return Bulk(text);
  Header('=', text.size() + 4);
  out_->append(format);
  out_->push_back(':');
  out_->append(text);
  out_->append("\r\n");
}

void ReplyBuilder::FinishDeferredArray(size_t mark, size_t n, bool as_set) {
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "%c%zu\r\n", as_set && resp3_ ? '~' : '*', n);
  out_->insert(mark, buf, len);
}

}  // namespace shoal::protocol
