// ReplyBuilder: typed replies in, RESP bytes out, for the protocol version the client chose.
//
// RESP3 types degrade to RESP2 the way Redis degrades them: maps become flat arrays, sets become
// arrays, doubles become bulk strings, booleans become integers, nulls become $-1 or *-1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shoal::protocol {

class ReplyBuilder {
 public:
  ReplyBuilder(std::string* out, int resp_version) : out_(out), resp3_(resp_version == 3) {}

  bool resp3() const { return resp3_; }
  void set_resp_version(int v) { resp3_ = (v == 3); }
  std::string* buffer() { return out_; }
  void set_buffer(std::string* out) { out_ = out; }

  void SimpleString(std::string_view s);
  void Ok() { out_->append("+OK\r\n"); }
  // `line` is the whole error, code included: "ERR syntax error", "WRONGTYPE ...".
  // CR and LF inside it become spaces, as Redis does, so the reply stays one line.
  void Error(std::string_view line);
  // Replies with the text errors.h assigns to `status` (which must not be OK).
  void Error(const Status& status, std::string_view command_name = {});
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void Null();       // A missing bulk string: $-1 (RESP2) or _ (RESP3).
  void NullArray();  // A missing array: *-1 (RESP2) or _ (RESP3).
  void ArrayHeader(size_t n);
  void MapHeader(size_t n);  // n key/value pairs; a flat array of 2n in RESP2.
  void SetHeader(size_t n);
  void PushHeader(size_t n);
  void Double(double v);
  void Bool(bool v);
  void Verbatim(std::string_view text, std::string_view format = "txt");
  // Appends bytes already in RESP form (a reply computed on another shard).
  void Raw(std::string_view bytes) { out_->append(bytes); }

  // For arrays whose length is known only at the end (SCAN, KEYS): Start returns a mark, Finish
  // inserts the header there.
  size_t StartDeferredArray() { return out_->size(); }
  void FinishDeferredArray(size_t mark, size_t n, bool as_set = false);

 private:
  void Header(char type, size_t n);
  std::string* out_;
  bool resp3_;
};

}  // namespace shoal::protocol
