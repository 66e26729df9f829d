#include "http/handler.h"

#include <atomic>
#include <cctype>
#include <charconv>

#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "http/json_body.h"
#include "http/metrics.h"
#include "http/routes.h"
#include "server/command_metadata.h"
#include "server/server_state.h"

namespace shoal::http {

namespace {

using Replies = HttpConnection::Replies;
using Commands = std::vector<std::vector<std::string>>;

constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

constexpr std::string_view kCollectionAllow = "GET, HEAD, POST, OPTIONS";
constexpr std::string_view kDocumentAllow = "GET, HEAD, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view kReadAllow = "GET, HEAD, OPTIONS";
constexpr std::string_view kCommandAllow = "POST, OPTIONS";

// Creates the document and indexes its id, or neither: redis.call raises on a JSON.SET error,
// which ends the script before the ZADD. 1: created, 0: the id exists.
constexpr char kCreateScript[] =
    "if redis.call('JSON.SET', KEYS[1], '$', ARGV[1], 'NX') then "
    "redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[2]) return 1 end return 0";
// A merge patch applied atomically to an existing document: the answer is the merged document,
// or nil when there is none.
constexpr char kPatchScript[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return nil end "
    "redis.call('JSON.MERGE', KEYS[1], '$', ARGV[1]) return redis.call('JSON.GET', KEYS[1])";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An error reply as an HTTP answer: a busy server is unavailable, the rest is the request's
// fault (wrong type, bad path, too deep...).
Response CommandError(const RespValue& v) {
  int status = 400;
  if (v.str.rfind("BUSY", 0) == 0 || v.str.rfind("LOADING", 0) == 0) status = 503;
  if (v.str.rfind("NOAUTH", 0) == 0) status = 401;
  return ErrorResponse(status, v.str);
}

bool IsFalse(const RespValue& v) {
  return v.is_null() || (v.type == RespValue::Type::kBool && v.integer == 0);
}

Response JsonBody(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// 415 unless the body is declared as JSON (application/json, or any +json type such as
// application/merge-patch+json); a body without Content-Type is taken as JSON.
bool JsonContentType(const HttpRequest& req) {
  if (!req.HasHeader("content-type")) return true;
  std::string type = Lower(req.Header("content-type"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  size_t start = type.find_first_not_of(" \t");
  if (start == std::string::npos) return false;
  type = type.substr(start);
  return type == "application/json" ||
         (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
}

// Checks an object body; answers the error and returns false when it is not one.
bool CheckBody(HttpConnection& c, const HttpRequest& req, ObjectBody* body) {
  if (!JsonContentType(req)) {
    c.Respond(ErrorResponse(415, "the body must be JSON (Content-Type: application/json)"));
    return false;
  }
  *body = CheckObjectBody(req.body);
  if (!body->error.empty()) {
    c.Respond(ErrorResponse(400, body->error));
    return false;
  }
  return true;
}

// With requirepass set, each request carries the password: "Authorization: Bearer <password>".
// The verdict is the client's `authenticated` flag for this request's commands.
bool Authorize(HttpConnection& c, const HttpRequest& req) {
  std::string pass = server::ServerState::Get().config.GetString("requirepass");
  if (pass.empty()) {
    c.authenticated = true;
    return true;
  }
  std::string_view auth = req.Header("authorization");
  c.authenticated =
      auth.size() > 7 && Lower(auth.substr(0, 7)) == "bearer " && auth.substr(7) == pass;
  return c.authenticated;
}

std::optional<int64_t> ParseIndex(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

void Create(HttpConnection& c, const Route& route, const HttpRequest& req) {
  ObjectBody body;
  if (!CheckBody(c, req, &body)) return;
  if (!body.id_error.empty()) return c.Respond(ErrorResponse(400, body.id_error));
  std::string id = body.has_id ? body.id : GenerateId();
  std::string why = CheckId(id);
  if (!why.empty()) return c.Respond(ErrorResponse(400, why));
  std::string doc = body.has_id ? req.body : InsertId(req.body, id);
  Commands cmds{{"EVAL", kCreateScript, "2", DocumentKey(route.collection, id),
                 IndexKey(route.collection), std::move(doc), id}};
  c.RunCommands(std::move(cmds), [&c, id, collection = route.collection](Replies& r) {
    if (r[0].is_error()) return c.Respond(CommandError(r[0]));
    if (r[0].integer == 0) {
      return c.Respond(ErrorResponse(409, "document '" + id + "' already exists"));
    }
    Response resp;
    resp.status = 201;
    resp.body = "{\"id\":";
    AppendJsonString(id, &resp.body);
    resp.body.push_back('}');
    resp.headers.emplace_back("Location", "/" + collection + "/" + PercentEncode(id));
    c.Respond(std::move(resp));
  });
}

void List(HttpConnection& c, const Route& route) {
  int64_t start = 0;
  std::optional<std::string> s = QueryParam(route.query, "start");
  if (s) {
    std::optional<int64_t> v = ParseIndex(*s);
    if (!v) return c.Respond(ErrorResponse(400, "start must be a non-negative integer"));
    start = *v;
  }
  int64_t end = start + kDefaultPage;
  std::optional<std::string> e = QueryParam(route.query, "end");
  if (e) {
    std::optional<int64_t> v = ParseIndex(*e);
    if (!v) return c.Respond(ErrorResponse(400, "end must be a non-negative integer"));
    end = *v;
  }
  if (end < start) return c.Respond(ErrorResponse(400, "end must not be less than start"));
  if (end - start > kMaxPage) {
    return c.Respond(ErrorResponse(
        400, "a page holds at most " + std::to_string(kMaxPage) + " documents (end - start)"));
  }
  std::string index = IndexKey(route.collection);
  Commands cmds{{"ZCARD", index}};
  // Same key, so one hop: the count and the page come from the same moment.
  if (end > start) {
    cmds.push_back({"ZRANGE", index, std::to_string(start), std::to_string(end - 1)});
  }
  std::string collection = route.collection;
  c.RunCommands(std::move(cmds), [&c, collection, start, end](Replies& r) {
    for (const RespValue& v : r) {
      if (v.is_error()) return c.Respond(CommandError(v));
    }
    std::string head = "{\"collection\":";
    AppendJsonString(collection, &head);
    head += absl::StrFormat(",\"start\":%d,\"end\":%d,\"total\":%d,\"documents\":[", start, end,
                            r[0].integer);
    if (r.size() < 2 || r[1].elements.empty()) return c.Respond(JsonBody(200, head + "]}"));
    std::vector<std::string> mget{"JSON.MGET"};
    for (const RespValue& id : r[1].elements) mget.push_back(DocumentKey(collection, id.str));
    mget.push_back(".");
    c.RunCommands({std::move(mget)}, [&c, head = std::move(head)](Replies& docs) {
      if (docs[0].is_error()) return c.Respond(CommandError(docs[0]));
      std::string body = head;
      bool first = true;
      for (const RespValue& d : docs[0].elements) {
        if (!d.is_string()) continue;  // Deleted since the index was read.
        if (!first) body.push_back(',');
        first = false;
        body.append(d.str);
      }
      body.append("]}");
      c.Respond(JsonBody(200, std::move(body)));
    });
  });
}

void Get(HttpConnection& c, const Route& route) {
  c.RunCommands({{"JSON.GET", DocumentKey(route.collection, route.id)}}, [&c](Replies& r) {
    if (r[0].is_error()) return c.Respond(CommandError(r[0]));
    if (!r[0].is_string()) return c.Respond(ErrorResponse(404, "no such document"));
    c.Respond(JsonBody(200, std::move(r[0].str)));
  });
}

void Replace(HttpConnection& c, const Route& route, const HttpRequest& req) {
  ObjectBody body;
  if (!CheckBody(c, req, &body)) return;
  c.RunCommands({{"JSON.SET", DocumentKey(route.collection, route.id), "$", req.body, "XX"}},
                [&c, doc = req.body](Replies& r) {
                  if (r[0].is_error()) return c.Respond(CommandError(r[0]));
                  if (IsFalse(r[0])) return c.Respond(ErrorResponse(404, "no such document"));
                  c.Respond(JsonBody(200, doc));
                });
}

void Patch(HttpConnection& c, const Route& route, const HttpRequest& req) {
  ObjectBody body;
  if (!CheckBody(c, req, &body)) return;
  c.RunCommands({{"EVAL", kPatchScript, "1", DocumentKey(route.collection, route.id), req.body}},
                [&c](Replies& r) {
                  if (r[0].is_error()) return c.Respond(CommandError(r[0]));
                  if (!r[0].is_string()) {
                    return c.Respond(ErrorResponse(404, "no such document"));
                  }
                  c.Respond(JsonBody(200, std::move(r[0].str)));
                });
}

void Delete(HttpConnection& c, const Route& route) {
  Commands cmds{{"MULTI"},
                {"JSON.DEL", DocumentKey(route.collection, route.id)},
                {"ZREM", IndexKey(route.collection), route.id},
                {"EXEC"}};
  c.RunCommands(std::move(cmds), [&c](Replies& r) {
    for (size_t i = 0; i < 3; ++i) {
      if (r[i].is_error()) return c.Respond(CommandError(r[i]));
    }
    const RespValue& exec = r[3];
    if (exec.is_error()) return c.Respond(CommandError(exec));
    if (exec.elements.size() != 2) {
      return c.Respond(ErrorResponse(500, "internal error: unexpected EXEC reply"));
    }
    if (exec.elements[0].is_error()) return c.Respond(CommandError(exec.elements[0]));
    if (exec.elements[0].integer == 0) return c.Respond(ErrorResponse(404, "no such document"));
    Response resp;
    resp.status = 204;
    c.Respond(std::move(resp));
  });
}

void Command(HttpConnection& c, const HttpRequest& req) {
  if (!JsonContentType(req)) {
    return c.Respond(ErrorResponse(415, "the body must be JSON (Content-Type: application/json)"));
  }
  std::vector<std::string> args;
  std::string error = ParseCommandBody(req.body, &args);
  if (!error.empty()) return c.Respond(ErrorResponse(400, error));
  std::string refused = RefusedOverHttp(args);
  if (!refused.empty()) return c.Respond(ErrorResponse(400, refused));
  c.RunCommands({std::move(args)}, [&c](Replies& r) {
    if (r[0].is_error()) return c.Respond(CommandError(r[0]));
    std::string body;
    AppendJson(r[0], &body);
    c.Respond(JsonBody(200, std::move(body)));
  });
}

std::string_view AllowFor(Route::Kind kind) {
  switch (kind) {
    case Route::Kind::kCollection:
      return kCollectionAllow;
    case Route::Kind::kDocument:
      return kDocumentAllow;
    case Route::Kind::kCommand:
      return kCommandAllow;
    default:
      return kReadAllow;
  }
}

}  // namespace

std::string GenerateId() {
  static std::atomic<uint64_t> sequence{0};
  uint64_t seq = sequence.fetch_add(1, std::memory_order_relaxed);
  return absl::StrFormat("%012x%08x", static_cast<uint64_t>(UnixTimeMs()),
                         static_cast<uint32_t>(seq));
}

std::string RefusedOverHttp(const std::vector<std::string>& args) {
  std::string name = Lower(args[0]);
  // Commands that change the connection's state would leak into the next request on a
  // kept-alive connection; these answer only with later messages, or never.
  static const char* kRefused[] = {
      "multi",      "exec",        "discard",      "watch",        "unwatch",   "select",
      "hello",      "auth",        "quit",         "reset",        "subscribe", "psubscribe",
      "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "monitor",   "sync",
      "psync",      "wait",        "waitaof"};
  for (const char* r : kRefused) {
    if (name == r) {
      return "'" + args[0] +
             "' is not available over HTTP: it changes or needs connection "
             "state (use a RESP connection)";
    }
  }
  if (name == "client" && args.size() > 1 && Lower(args[1]) == "reply") {
    return "'CLIENT REPLY' is not available over HTTP";
  }
  const server::CommandMeta* meta = server::FindCommandMeta(name);
  if (meta != nullptr) {
    std::string_view flags = meta->flags;
    for (size_t pos = 0; pos < flags.size();) {
      size_t space = flags.find(' ', pos);
      if (flags.substr(pos, space - pos) == "blocking") {
        return "'" + args[0] + "' blocks and is not available over HTTP (use a RESP connection)";
      }
      if (space == std::string_view::npos) break;
      pos = space + 1;
    }
  }
  return "";
}

void HandleRequest(HttpConnection& c, HttpRequest& req) {
  Route route = ParseRoute(req.url);
  if (route.kind == Route::Kind::kNotFound) {
    return c.Respond(ErrorResponse(404, "no such route"));
  }
  if (req.method == HTTP_OPTIONS) return c.Respond(OptionsResponse(req, AllowFor(route.kind)));
  if (route.kind == Route::Kind::kBad) return c.Respond(ErrorResponse(400, route.error));
  // Readiness probes carry no credentials and /health reveals nothing.
  if (route.kind != Route::Kind::kHealth && !Authorize(c, req)) {
    Response r = ErrorResponse(401, "authentication required (Authorization: Bearer <password>)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return c.Respond(std::move(r));
  }
  const bool read = req.method == HTTP_GET || req.method == HTTP_HEAD;
  switch (route.kind) {
    case Route::Kind::kHealth:
      if (read) return HandleHealth(c);
      break;
    case Route::Kind::kMetrics:
      if (read) return HandleMetrics(c);
      break;
    case Route::Kind::kCommand:
      if (req.method == HTTP_POST) return Command(c, req);
      break;
    case Route::Kind::kCollection:
      if (read) return List(c, route);
      if (req.method == HTTP_POST) return Create(c, route, req);
      break;
    case Route::Kind::kDocument:
      if (read) return Get(c, route);
      if (req.method == HTTP_PUT) return Replace(c, route, req);
      if (req.method == HTTP_PATCH) return Patch(c, route, req);
      if (req.method == HTTP_DELETE) return Delete(c, route);
      break;
    default:
      break;
  }
  c.Respond(MethodNotAllowed(AllowFor(route.kind)));
}

}  // namespace shoal::http
