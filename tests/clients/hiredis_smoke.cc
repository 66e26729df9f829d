// hiredis_smoke: drives a server through hiredis' synchronous C API and checks every reply.
//
// Usage: hiredis_smoke HOST PORT
// Exit status: 0 when every check passed; 1 at the first failed check (its description on
// stderr); 2 on bad usage. Run by tests/integration/test_hiredis.py against Shoal and against
// redis-server (the latter proves the expectations here are Redis's).
//
// Keys all start with "hiredis_smoke:<pid>:" and are deleted at the end, so the program can run
// against a server other tests use. It does not FLUSH anything.
//
// RESP3: hiredis learned RESP3 in 1.0. With an older hiredis (Debian 12 ships 0.14.1, whose
// reader rejects '%' as a protocol error) the RESP3 checks read the raw bytes from the
// connection's socket instead; the output says which path ran.

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::string g_prefix;  // "hiredis_smoke:<pid>:"
std::string g_step;    // The check being run, for the failure message.

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "hiredis_smoke: FAILED in [%s]: %s\n", g_step.c_str(), what.c_str());
  std::exit(1);
}

std::string Key(std::string_view name) { return g_prefix + std::string(name); }

// Printable form of a byte string for messages: escapes non-printables, cuts long values.
std::string Show(std::string_view s) {
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : s) {
    if (++shown > 80) {
      out += "...(" + std::to_string(s.size()) + " bytes)";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

const char* TypeName(int type) {
  switch (type) {
    case REDIS_REPLY_STRING:
      return "STRING";
    case REDIS_REPLY_ARRAY:
      return "ARRAY";
    case REDIS_REPLY_INTEGER:
      return "INTEGER";
    case REDIS_REPLY_NIL:
      return "NIL";
    case REDIS_REPLY_STATUS:
      return "STATUS";
    case REDIS_REPLY_ERROR:
      return "ERROR";
#ifdef REDIS_REPLY_MAP
    case REDIS_REPLY_DOUBLE:
      return "DOUBLE";
    case REDIS_REPLY_BOOL:
      return "BOOL";
    case REDIS_REPLY_MAP:
      return "MAP";
    case REDIS_REPLY_SET:
      return "SET";
    case REDIS_REPLY_ATTR:
      return "ATTR";
    case REDIS_REPLY_PUSH:
      return "PUSH";
    case REDIS_REPLY_BIGNUM:
      return "BIGNUM";
    case REDIS_REPLY_VERB:
      return "VERB";
#endif
    default:
      return "UNKNOWN";
  }
}

std::string Describe(const redisReply* r) {
  std::string out = TypeName(r->type);
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return out + " " + std::to_string(r->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return out + " " + Show(std::string_view(r->str, r->len));
    case REDIS_REPLY_NIL:
      return out;
    default:
      return out + " of " + std::to_string(r->elements) + " elements";
  }
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

Context Connect(const char* host, int port) {
  timeval timeout{10, 0};
  Context c(redisConnectWithTimeout(host, port, timeout));
  if (!c) Fail("redisConnectWithTimeout returned NULL (out of memory)");
  if (c->err) Fail(std::string("cannot connect: ") + c->errstr);
  // A hung server fails the run instead of hanging it.
  if (redisSetTimeout(c.get(), timeout) != REDIS_OK) Fail("redisSetTimeout failed");
  return c;
}

// Sends one command (each argument binary-safe) and returns its reply; fails on an I/O error.
Reply Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
  if (r == nullptr) Fail("I/O error on " + Show(args[0]) + ": " + c->errstr);
  return Reply(r);
}

Reply GetReply(redisContext* c, const std::string& context) {
  void* r = nullptr;
  if (redisGetReply(c, &r) != REDIS_OK || r == nullptr) {
    Fail("redisGetReply failed (" + context + "): " + c->errstr);
  }
  return Reply(static_cast<redisReply*>(r));
}

void ExpectType(const redisReply* r, int type, const std::string& context) {
  if (r->type != type) {
    Fail(context + ": expected a " + TypeName(type) + " reply, got " + Describe(r));
  }
}

void ExpectString(const redisReply* r, std::string_view want, const std::string& context) {
  ExpectType(r, REDIS_REPLY_STRING, context);
  if (std::string_view(r->str, r->len) != want) {
    Fail(context + ": expected " + Show(want) + ", got " + Show(std::string_view(r->str, r->len)));
  }
}

void ExpectStatus(const redisReply* r, std::string_view want, const std::string& context) {
  ExpectType(r, REDIS_REPLY_STATUS, context);
  if (std::string_view(r->str, r->len) != want) {
    Fail(context + ": expected status " + Show(want) + ", got " + Describe(r));
  }
}

void ExpectError(const redisReply* r, std::string_view want, const std::string& context) {
  ExpectType(r, REDIS_REPLY_ERROR, context);
  if (std::string_view(r->str, r->len) != want) {
    Fail(context + ": expected error " + Show(want) + ", got " + Describe(r));
  }
}

void ExpectInteger(const redisReply* r, long long want, const std::string& context) {
  ExpectType(r, REDIS_REPLY_INTEGER, context);
  if (r->integer != want) {
    Fail(context + ": expected " + std::to_string(want) + ", got " + std::to_string(r->integer));
  }
}

// --- checks ------------------------------------------------------------------------------------

void CheckBinaryValues(redisContext* c) {
  g_step = "binary values";
  const std::string value("a\0b\r\n\0\0\xff\xfe end\0", 15);
  const std::string key = Key(std::string("bin\0key\r\n", 9));
  // The %b format is the binary-safe path most hiredis users take.
  auto* raw = static_cast<redisReply*>(
      redisCommand(c, "SET %b %b", key.data(), key.size(), value.data(), value.size()));
  if (raw == nullptr) Fail(std::string("I/O error: ") + c->errstr);
  ExpectStatus(Reply(raw).get(), "OK", "SET of a value with NULs");
  raw = static_cast<redisReply*>(redisCommand(c, "GET %b", key.data(), key.size()));
  if (raw == nullptr) Fail(std::string("I/O error: ") + c->errstr);
  ExpectString(Reply(raw).get(), value, "GET of a value with NULs");
  ExpectInteger(Command(c, {"STRLEN", key}).get(), 15, "STRLEN of a value with NULs");

  ExpectStatus(Command(c, {"SET", Key("empty"), ""}).get(), "OK", "SET of an empty value");
  ExpectString(Command(c, {"GET", Key("empty")}).get(), "", "GET of an empty value");

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  ExpectStatus(Command(c, {"SET", Key("all"), all_bytes}).get(), "OK", "SET of bytes 0..255");
  ExpectString(Command(c, {"GET", Key("all")}).get(), all_bytes, "GET of bytes 0..255");
}

void CheckLargeValue(redisContext* c) {
  g_step = "1 MB value";
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919 + i / 251) & 0xff);
  ExpectStatus(Command(c, {"SET", Key("big"), big}).get(), "OK", "SET of 1 MB");
  ExpectString(Command(c, {"GET", Key("big")}).get(), big, "GET of 1 MB");
  ExpectInteger(Command(c, {"STRLEN", Key("big")}).get(), 1 << 20, "STRLEN of 1 MB");
  ExpectInteger(Command(c, {"APPEND", Key("big"), "tail"}).get(), (1 << 20) + 4, "APPEND to 1 MB");
  ExpectString(Command(c, {"GETRANGE", Key("big"), "-4", "-1"}).get(), "tail", "GETRANGE tail");
}

// 10,000 commands appended before any reply is read; four kinds rotate so that replies of
// different types, and keys on different shards, interleave. Replies must come back in order.
void CheckPipeline(redisContext* c) {
  g_step = "pipeline of 10000";
  constexpr int kCommands = 10000;
  const std::string counter = Key("pipe:counter");
  for (int i = 0; i < kCommands; ++i) {
    int rc = REDIS_OK;
    switch (i % 4) {
      case 0: {
        std::string k = Key("pipe:" + std::to_string(i)), v = "value-" + std::to_string(i);
        rc = redisAppendCommand(c, "SET %b %b", k.data(), k.size(), v.data(), v.size());
        break;
      }
      case 1: {  // Reads the key set by the previous command: read-your-writes in a pipeline.
        std::string k = Key("pipe:" + std::to_string(i - 1));
        rc = redisAppendCommand(c, "GET %b", k.data(), k.size());
        break;
      }
      case 2:
        rc = redisAppendCommand(c, "INCR %b", counter.data(), counter.size());
        break;
      case 3:
        rc = redisAppendCommand(c, "ECHO echo-%d", i);
        break;
    }
    if (rc != REDIS_OK) Fail("redisAppendCommand failed at command " + std::to_string(i));
  }
  for (int i = 0; i < kCommands; ++i) {
    const std::string context = "pipelined reply " + std::to_string(i);
    Reply r = GetReply(c, context);
    switch (i % 4) {
      case 0:
        ExpectStatus(r.get(), "OK", context + " (SET)");
        break;
      case 1:
        ExpectString(r.get(), "value-" + std::to_string(i - 1), context + " (GET)");
        break;
      case 2:
        ExpectInteger(r.get(), i / 4 + 1, context + " (INCR)");
        break;
      case 3:
        ExpectString(r.get(), "echo-" + std::to_string(i), context + " (ECHO)");
        break;
    }
  }
}

void CheckReplyTypes(redisContext* c) {
  g_step = "reply types";
  ExpectStatus(Command(c, {"PING"}).get(), "PONG", "PING");
  ExpectInteger(Command(c, {"INCR", Key("n")}).get(), 1, "INCR of a missing key");
  ExpectInteger(Command(c, {"INCRBY", Key("n"), "-10"}).get(), -9, "INCRBY -10");
  ExpectType(Command(c, {"GET", Key("missing")}).get(), REDIS_REPLY_NIL, "GET of a missing key");
  ExpectInteger(Command(c, {"EXISTS", Key("n"), Key("missing")}).get(), 1, "EXISTS");

  ExpectStatus(Command(c, {"SET", Key("s"), "not a number"}).get(), "OK", "SET");
  ExpectError(Command(c, {"INCR", Key("s")}).get(), "ERR value is not an integer or out of range",
              "INCR of a non-integer");
  ExpectError(Command(c, {"GET"}).get(), "ERR wrong number of arguments for 'get' command",
              "GET without a key");
  ExpectError(Command(c, {"NOSUCHCMD", "a", "b"}).get(),
              "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ",
              "an unknown command");
  ExpectError(Command(c, {"SET", Key("s"), "v", "EX", "0"}).get(),
              "ERR invalid expire time in 'set' command", "SET EX 0");
  // The connection is still usable after errors.
  ExpectString(Command(c, {"GET", Key("s")}).get(), "not a number", "GET after errors");

  Reply arr = Command(c, {"MGET", Key("s"), Key("missing")});
  ExpectType(arr.get(), REDIS_REPLY_ARRAY, "MGET");
  if (arr->elements != 2)
    Fail("MGET of 2 keys: got " + std::to_string(arr->elements) + " elements");
  ExpectString(arr->element[0], "not a number", "MGET element 0");
  ExpectType(arr->element[1], REDIS_REPLY_NIL, "MGET element 1 (missing key)");

  Reply empty = Command(c, {"KEYS", Key("no-such-pattern-*")});
  ExpectType(empty.get(), REDIS_REPLY_ARRAY, "KEYS matching nothing");
  if (empty->elements != 0) Fail("KEYS matching nothing returned elements");
}

void CheckMget(redisContext* c) {
  g_step = "MGET across many keys";
  constexpr int kKeys = 500;
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < kKeys; ++i) {
    mset.push_back(Key("m:" + std::to_string(i)));
    mset.push_back("mv-" + std::to_string(i));
  }
  ExpectStatus(Command(c, mset).get(), "OK", "MSET of 500 keys");
  // Every present key is followed by a missing one, so NILs interleave with values.
  std::vector<std::string> mget = {"MGET"};
  for (int i = 0; i < kKeys; ++i) {
    mget.push_back(Key("m:" + std::to_string(i)));
    mget.push_back(Key("m:missing:" + std::to_string(i)));
  }
  Reply r = Command(c, mget);
  ExpectType(r.get(), REDIS_REPLY_ARRAY, "MGET of 1000 keys");
  if (r->elements != 2 * kKeys) Fail("MGET of 1000 keys: got " + std::to_string(r->elements));
  for (int i = 0; i < kKeys; ++i) {
    ExpectString(r->element[2 * i], "mv-" + std::to_string(i),
                 "MGET element " + std::to_string(2 * i));
    ExpectType(r->element[2 * i + 1], REDIS_REPLY_NIL, "MGET element " + std::to_string(2 * i + 1));
  }
}

void CheckScan(redisContext* c) {
  g_step = "SCAN over 2000 keys";
  constexpr int kKeys = 2000;
  const std::string prefix = Key("scan:");
  std::set<std::string> want;
  for (int i = 0; i < kKeys; ++i) {
    want.insert(prefix + std::to_string(i));
    std::string k = prefix + std::to_string(i);
    if (redisAppendCommand(c, "SET %b x", k.data(), k.size()) != REDIS_OK) Fail("append SET");
  }
  for (int i = 0; i < kKeys; ++i) ExpectStatus(GetReply(c, "SET").get(), "OK", "SET scan key");

  const std::string match = prefix + "*";
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    if (++calls > 100000) Fail("SCAN did not return cursor 0 after 100000 calls");
    Reply r = Command(c, {"SCAN", cursor, "MATCH", match, "COUNT", "100"});
    ExpectType(r.get(), REDIS_REPLY_ARRAY, "SCAN reply");
    if (r->elements != 2) Fail("SCAN reply has " + std::to_string(r->elements) + " elements");
    ExpectType(r->element[0], REDIS_REPLY_STRING, "SCAN cursor");
    ExpectType(r->element[1], REDIS_REPLY_ARRAY, "SCAN keys");
    cursor.assign(r->element[0]->str, r->element[0]->len);
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      const redisReply* k = r->element[1]->element[i];
      ExpectType(k, REDIS_REPLY_STRING, "SCAN key");
      seen.emplace(k->str, k->len);
    }
  } while (cursor != "0");

  for (const std::string& k : want) {
    size_t n = seen.count(k);
    if (n == 0) Fail("SCAN never returned " + Show(k));
    if (n > 1) Fail("SCAN returned " + Show(k) + " " + std::to_string(n) + " times");
  }
  for (const std::string& k : seen) {
    if (!want.contains(k)) Fail("SCAN returned unexpected key " + Show(k));
  }
  std::printf("hiredis_smoke: SCAN visited %d keys once each in %d calls\n", kKeys, calls);
}

#ifdef REDIS_REPLY_MAP
// hiredis >= 1.0 parses RESP3 itself.
void CheckResp3(const char* host, int port) {
  g_step = "RESP3 (hiredis reader)";
  Context c = Connect(host, port);
  Reply hello = Command(c.get(), {"HELLO", "3"});
  ExpectType(hello.get(), REDIS_REPLY_MAP, "HELLO 3");
  if (hello->elements % 2 != 0 || hello->elements == 0) Fail("HELLO 3 map has odd/zero elements");
  std::map<std::string, const redisReply*> fields;
  for (size_t i = 0; i < hello->elements; i += 2) {
    ExpectType(hello->element[i], REDIS_REPLY_STRING, "HELLO 3 map key");
    fields[std::string(hello->element[i]->str, hello->element[i]->len)] = hello->element[i + 1];
  }
  for (const char* name : {"server", "version", "proto", "id", "mode", "role", "modules"}) {
    if (!fields.contains(name)) Fail(std::string("HELLO 3 map lacks \"") + name + "\"");
  }
  ExpectInteger(fields["proto"], 3, "HELLO 3 proto");
  ExpectType(Command(c.get(), {"GET", Key("missing")}).get(), REDIS_REPLY_NIL, "GET missing");
  Reply cfg = Command(c.get(), {"CONFIG", "GET", "databases"});
  ExpectType(cfg.get(), REDIS_REPLY_MAP, "CONFIG GET databases");
  if (cfg->elements != 2) Fail("CONFIG GET databases: " + std::to_string(cfg->elements));
  ExpectString(cfg->element[0], "databases", "CONFIG GET databases key");
  ExpectInteger(Command(c.get(), {"INCR", Key("r3")}).get(), 1, "INCR in RESP3");
  std::printf("hiredis_smoke: RESP3 checked with hiredis' own reader\n");
}
#else
// hiredis < 1.0 cannot parse RESP3: send through hiredis, read the socket directly, and walk the
// bytes with this minimal RESP3 reader.
struct RawReply {
  char type = 0;
  std::string line;  // The header line without its type byte and CRLF.
  std::string body;  // Bulk payload.
  std::vector<RawReply> children;
};

// Parses one reply at `pos`; returns false if `buf` does not yet hold all of it.
bool ParseRaw(const std::string& buf, size_t& pos, RawReply& out) {
  size_t eol = buf.find("\r\n", pos);
  if (eol == std::string::npos) return false;
  out.type = buf[pos];
  out.line = buf.substr(pos + 1, eol - pos - 1);
  pos = eol + 2;
  switch (out.type) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '#':
    case '(':
    case '_':
      return true;
    case '$':
    case '=':
    case '!': {
      long n = std::strtol(out.line.c_str(), nullptr, 10);
      if (n < 0) return true;
      if (buf.size() < pos + n + 2) return false;
      out.body = buf.substr(pos, n);
      pos += n + 2;
      return true;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      long n = std::strtol(out.line.c_str(), nullptr, 10);
      if (out.type == '%' || out.type == '|') n *= 2;
      for (long i = 0; i < n; ++i) {
        out.children.emplace_back();
        if (!ParseRaw(buf, pos, out.children.back())) return false;
      }
      return true;
    }
    default:
      Fail(std::string("not RESP: type byte ") + Show(std::string(1, out.type)));
  }
}

// Sends `args` through hiredis' writer and reads one reply straight from the socket.
RawReply RawCommand(redisContext* c, const std::vector<std::string>& args, std::string& pending) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    Fail("redisAppendCommandArgv failed");
  }
  int done = 0;
  while (!done) {
    if (redisBufferWrite(c, &done) != REDIS_OK) Fail(std::string("write: ") + c->errstr);
  }
  while (true) {
    size_t pos = 0;
    RawReply r;
    if (!pending.empty() && ParseRaw(pending, pos, r)) {
      pending.erase(0, pos);
      return r;
    }
    char chunk[16384];
    ssize_t n = read(c->fd, chunk, sizeof chunk);  // The context's 10 s timeout applies.
    if (n == 0) Fail("server closed the connection during " + Show(args[0]));
    if (n < 0) Fail(std::string("read: ") + std::strerror(errno));
    pending.append(chunk, n);
  }
}

void CheckResp3(const char* host, int port) {
  g_step = "RESP3 (raw bytes; this hiredis has no RESP3 reader)";
  Context c = Connect(host, port);
  std::string pending;
  RawReply hello = RawCommand(c.get(), {"HELLO", "3"}, pending);
  if (hello.type != '%')
    Fail(std::string("HELLO 3: expected a map ('%'), got '") + hello.type + "'");
  std::map<std::string, const RawReply*> fields;
  for (size_t i = 0; i + 1 < hello.children.size(); i += 2) {
    fields[hello.children[i].body] = &hello.children[i + 1];
  }
  for (const char* name : {"server", "version", "proto", "id", "mode", "role", "modules"}) {
    if (!fields.contains(name)) Fail(std::string("HELLO 3 map lacks \"") + name + "\"");
  }
  if (fields["proto"]->type != ':' || fields["proto"]->line != "3") {
    Fail("HELLO 3: proto is not the integer 3");
  }
  RawReply nil = RawCommand(c.get(), {"GET", Key("missing")}, pending);
  if (nil.type != '_')
    Fail(std::string("GET missing: expected RESP3 null '_', got '") + nil.type + "'");
  RawReply cfg = RawCommand(c.get(), {"CONFIG", "GET", "databases"}, pending);
  if (cfg.type != '%' || cfg.children.size() != 2 || cfg.children[0].body != "databases") {
    Fail("CONFIG GET databases: expected a map of one pair");
  }
  RawReply incr = RawCommand(c.get(), {"INCR", Key("r3")}, pending);
  if (incr.type != ':' || incr.line != "1") Fail("INCR in RESP3: expected :1");
  if (!pending.empty()) Fail("bytes left over after the RESP3 replies: " + Show(pending));
  std::printf("hiredis_smoke: RESP3 checked on raw bytes (hiredis %d.%d.%d has no RESP3 reader)\n",
              HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
}
#endif

void Cleanup(redisContext* c) {
  g_step = "cleanup";
  std::string cursor = "0";
  do {
    Reply r = Command(c, {"SCAN", cursor, "MATCH", g_prefix + "*", "COUNT", "1000"});
    ExpectType(r.get(), REDIS_REPLY_ARRAY, "SCAN for cleanup");
    cursor.assign(r->element[0]->str, r->element[0]->len);
    std::vector<std::string> del = {"DEL"};
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      del.emplace_back(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
    }
    if (del.size() > 1) ExpectType(Command(c, del).get(), REDIS_REPLY_INTEGER, "DEL");
  } while (cursor != "0");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  char* end = nullptr;
  long port = std::strtol(argv[2], &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535) {
    std::fprintf(stderr, "hiredis_smoke: bad port '%s'\n", argv[2]);
    return 2;
  }
  g_prefix = "hiredis_smoke:" + std::to_string(getpid()) + ":";

  g_step = "connect";
  Context c = Connect(host, static_cast<int>(port));
  CheckBinaryValues(c.get());
  CheckLargeValue(c.get());
  CheckPipeline(c.get());
  CheckReplyTypes(c.get());
  CheckMget(c.get());
  CheckScan(c.get());
  CheckResp3(host, static_cast<int>(port));
  Cleanup(c.get());
  std::printf("hiredis_smoke: all checks passed against %s:%ld\n", host, port);
  return 0;
}
