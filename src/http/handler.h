// HandleRequest: what each route does, as commands through the connection (http_connection.h).
//
//   POST   /{c}        EVAL create: JSON.SET c:id $ doc NX, then ZADD _idx:c NX 0 id, atomically
//                      (a script: if JSON.SET fails, nothing is indexed) -> 201 / 409
//   GET    /{c}        ZCARD + ZRANGE _idx:c (one hop, same key), then JSON.MGET of the page
//   GET    /{c}/{id}   JSON.GET c:id -> the stored JSON, as is
//   PUT    /{c}/{id}   JSON.SET c:id $ doc XX -> 200 / 404
//   PATCH  /{c}/{id}   EVAL: EXISTS, JSON.MERGE, JSON.GET on the key's shard -> merged document
//   DELETE /{c}/{id}   MULTI; JSON.DEL c:id; ZREM _idx:c id; EXEC -> 204 / 404
//   POST   /command    any command but those that block or change connection state
//   GET    /health     a round trip to every shard; GET /metrics: Prometheus text
//
// Multi-key work (create, delete) spans the document's shard and the index's: it runs as a
// transaction (MULTI/EXEC or a script with declared keys), so a reader over RESP or HTTP sees
// both changes or neither.
#pragma once

#include "http/http_connection.h"

namespace shoal::http {

void HandleRequest(HttpConnection& c, HttpRequest& req);

// Why `args` may not run over HTTP (blocks, subscribes, or changes the connection's state), or
// empty when it may.
std::string RefusedOverHttp(const std::vector<std::string>& args);

// A new document id: the time in milliseconds and a process-wide sequence number, in fixed-width
// hex, so ids generated later sort later (the index orders ids as strings).
std::string GenerateId();

}  // namespace shoal::http
