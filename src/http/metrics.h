// GET /health and GET /metrics.
//
// /health: a round trip to every shard thread within a second: 200 {"status":"ok"} when all
// answer, 503 otherwise (a shard stuck in a long script, say).
// /metrics: Prometheus text format 0.0.4. The server-wide figures are INFO's (INFO everything
// runs through the dispatcher like any command, and its text is translated), so the two never
// disagree; per-shard load and HTTP counters come from a poll of every shard.
#pragma once

#include <string>
#include <string_view>

#include "http/http_connection.h"

namespace shoal::http {

void HandleHealth(HttpConnection& c);
void HandleMetrics(HttpConnection& c);

// Translates INFO text plus the per-shard poll results into Prometheus text. Exposed for tests.
std::string PrometheusText(std::string_view info, const HttpConnection::PollResults& shards,
                           int64_t http_connections);

}  // namespace shoal::http
