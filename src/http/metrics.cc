#include "http/metrics.h"

#include <map>
#include <sstream>

#include "absl/strings/str_format.h"
#include "http/http_stats.h"
#include "server/thread_state.h"
#include "shard/shard.h"

namespace shoal::http {

namespace {

constexpr int64_t kHealthTimeoutMs = 1000;
constexpr int64_t kMetricsPollTimeoutMs = 2000;

// One shard's figures for the poll: "commands keys tasks http_connections code=n code=n...".
std::string ShardFigures(shard::Shard& s) {
  uint64_t keys = 0;
  for (int i = 0; i < s.num_dbs(); ++i) keys += s.db(i).size();
  const HttpThreadStats& http = ThisThreadHttpStats();
  std::string out = absl::StrFormat("%d %d %d %d", server::ThreadState::Get().total_commands, keys,
                                    s.tasks_run(), http.connections_accepted);
  for (const auto& [code, n] : http.responses_by_status) out += absl::StrFormat(" %d=%d", code, n);
  return out;
}

std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class Writer {
 public:
  // Starts metric family `name`.
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += absl::StrFormat("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  }
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    text_.append(name);
    if (!labels.empty()) {
      text_ += '{';
      text_.append(labels);
      text_ += '}';
    }
    text_ += ' ';
    text_.append(value);
    text_ += '\n';
  }
  // A family with one unlabelled sample, from an INFO field when present.
  void One(std::string_view name, std::string_view type, std::string_view help,
           const std::map<std::string, std::string>& info, const std::string& field) {
    auto it = info.find(field);
    if (it == info.end()) return;
    Family(name, type, help);
    Sample(name, "", it->second);
  }
  std::string& text() { return text_; }

 private:
  std::string text_;
};

// "calls=3,usec=20,..." -> {"calls": "3", "usec": "20", ...}
std::map<std::string, std::string> SplitFields(std::string_view v) {
  std::map<std::string, std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view kv = v.substr(0, comma);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) out[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
    if (comma == std::string_view::npos) break;
    v = v.substr(comma + 1);
  }
  return out;
}

}  // namespace

std::string PrometheusText(std::string_view info_text, const HttpConnection::PollResults& shards,
                           int64_t http_connections) {
  std::map<std::string, std::string> info;
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> cmdstats, keyspace;
  std::map<std::string, std::map<std::string, std::string>> latencies;  // cmd -> p50 -> usec.
  std::vector<std::pair<std::string, std::string>> errors;
  std::istringstream lines{std::string(info_text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon), value = line.substr(colon + 1);
    if (key.rfind("cmdstat_", 0) == 0) {
      cmdstats.emplace_back(key.substr(8), SplitFields(value));
    } else if (key.rfind("latency_percentiles_usec_", 0) == 0) {
      latencies[key.substr(25)] = SplitFields(value);
    } else if (key.rfind("errorstat_", 0) == 0) {
      errors.emplace_back(key.substr(10), SplitFields(value)["count"]);
    } else if (key.size() > 2 && key.rfind("db", 0) == 0 &&
               key.find_first_not_of("0123456789", 2) == std::string::npos) {
      keyspace.emplace_back(key.substr(2), SplitFields(value));
    } else {
      info[key] = value;
    }
  }
  Writer w;
  w.One("shoal_uptime_seconds", "gauge", "Seconds since the server started.", info,
        "uptime_in_seconds");
  w.Family("shoal_connected_clients", "gauge", "Open client connections by protocol.");
  if (info.count("connected_clients")) {
    w.Sample("shoal_connected_clients", "protocol=\"resp\"", info["connected_clients"]);
  }
  w.Sample("shoal_connected_clients", "protocol=\"http\"", std::to_string(http_connections));
  w.One("shoal_blocked_clients", "gauge", "Clients waiting in a blocking command.", info,
        "blocked_clients");
  w.One("shoal_used_memory_bytes", "gauge", "Bytes allocated by the server.", info, "used_memory");
  w.One("shoal_used_memory_rss_bytes", "gauge", "Resident set size.", info, "used_memory_rss");
  w.One("shoal_used_memory_peak_bytes", "gauge", "Peak of used memory.", info, "used_memory_peak");
  w.One("shoal_maxmemory_bytes", "gauge", "The maxmemory setting (0: none).", info, "maxmemory");
  w.One("shoal_commands_processed_total", "counter", "Commands run.", info,
        "total_commands_processed");
  w.One("shoal_connections_received_total", "counter", "RESP connections accepted.", info,
        "total_connections_received");
  w.One("shoal_net_input_bytes_total", "counter", "Bytes read from clients.", info,
        "total_net_input_bytes");
  w.One("shoal_net_output_bytes_total", "counter", "Bytes written to clients.", info,
        "total_net_output_bytes");
  w.One("shoal_expired_keys_total", "counter", "Keys removed by expiry.", info, "expired_keys");
  w.One("shoal_keyspace_hits_total", "counter", "Lookups that found their key.", info,
        "keyspace_hits");
  w.One("shoal_keyspace_misses_total", "counter", "Lookups that missed.", info, "keyspace_misses");
  w.One("shoal_error_replies_total", "counter", "Error replies sent.", info, "total_error_replies");

  w.Family("shoal_command_calls_total", "counter", "Calls per command.");
  for (auto& [cmd, f] : cmdstats) {
    w.Sample("shoal_command_calls_total", "cmd=\"" + EscapeLabel(cmd) + "\"", f["calls"]);
  }
  w.Family("shoal_command_failed_calls_total", "counter", "Calls that replied an error.");
  for (auto& [cmd, f] : cmdstats) {
    w.Sample("shoal_command_failed_calls_total", "cmd=\"" + EscapeLabel(cmd) + "\"",
             f["failed_calls"]);
  }
  w.Family("shoal_command_rejected_calls_total", "counter", "Calls refused before running.");
  for (auto& [cmd, f] : cmdstats) {
    w.Sample("shoal_command_rejected_calls_total", "cmd=\"" + EscapeLabel(cmd) + "\"",
             f["rejected_calls"]);
  }
  // Latency: the percentiles of INFO latencystats (latency-tracking-info-percentiles, from each
  // command's histogram since start or CONFIG RESETSTAT) as quantiles, with the total time and
  // calls (mean latency is rate(_sum) / rate(_count)).
  w.Family("shoal_command_duration_seconds", "summary", "Time spent running each command.");
  for (auto& [cmd, f] : cmdstats) {
    std::string label = "cmd=\"" + EscapeLabel(cmd) + "\"";
    for (auto& [percentile, usec] : latencies[cmd]) {  // "p99.9" -> "123.456"
      if (percentile.size() < 2 || percentile[0] != 'p') continue;
      double q = std::strtod(percentile.c_str() + 1, nullptr) / 100;
      w.Sample("shoal_command_duration_seconds",
               label + absl::StrFormat(",quantile=\"%g\"", q),
               absl::StrFormat("%.9f", std::strtod(usec.c_str(), nullptr) / 1e6));
    }
    double usec = std::strtod(f["usec"].c_str(), nullptr);
    w.Sample("shoal_command_duration_seconds_sum", label, absl::StrFormat("%.6f", usec / 1e6));
    w.Sample("shoal_command_duration_seconds_count", label, f["calls"]);
  }
  w.Family("shoal_errors_total", "counter", "Error replies by error code.");
  for (auto& [code, n] : errors) {
    w.Sample("shoal_errors_total", "code=\"" + EscapeLabel(code) + "\"", n);
  }
  w.Family("shoal_db_keys", "gauge", "Keys per logical database.");
  for (auto& [db, f] : keyspace) w.Sample("shoal_db_keys", "db=\"" + db + "\"", f["keys"]);
  w.Family("shoal_db_expiring_keys", "gauge", "Keys with a time to live, per database.");
  for (auto& [db, f] : keyspace) {
    w.Sample("shoal_db_expiring_keys", "db=\"" + db + "\"", f["expires"]);
  }

  // Per shard, from the poll.
  std::vector<std::vector<std::string>> parts(shards.size());
  std::map<std::string, uint64_t> by_status;
  uint64_t accepted = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (!shards[i]) continue;
    std::istringstream in(*shards[i]);
    std::string word;
    while (in >> word) {
      size_t eq = word.find('=');
      if (eq != std::string::npos) {
        by_status[word.substr(0, eq)] += std::stoull(word.substr(eq + 1));
      } else {
        parts[i].push_back(word);
      }
    }
    if (parts[i].size() >= 4) accepted += std::stoull(parts[i][3]);
  }
  auto per_shard = [&](std::string_view name, std::string_view type, std::string_view help,
                       size_t field) {
    w.Family(name, type, help);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].size() > field) {
        w.Sample(name, absl::StrFormat("shard=\"%d\"", i), parts[i][field]);
      }
    }
  };
  per_shard("shoal_shard_commands_processed_total", "counter", "Commands run by each shard thread.",
            0);
  per_shard("shoal_shard_keys", "gauge", "Keys held by each shard, all databases.", 1);
  per_shard("shoal_shard_tasks_total", "counter", "Messages from other threads run by each shard.",
            2);
  w.Family("shoal_shard_up", "gauge", "1 if the shard answered the metrics poll in time.");
  for (size_t i = 0; i < shards.size(); ++i) {
    w.Sample("shoal_shard_up", absl::StrFormat("shard=\"%d\"", i), shards[i] ? "1" : "0");
  }
  w.Family("shoal_http_connections_accepted_total", "counter", "HTTP connections accepted.");
  w.Sample("shoal_http_connections_accepted_total", "", std::to_string(accepted));
  w.Family("shoal_http_responses_total", "counter", "HTTP responses by status code.");
  for (const auto& [code, n] : by_status) {
    w.Sample("shoal_http_responses_total", "code=\"" + code + "\"", std::to_string(n));
  }
  return std::move(w.text());
}

void HandleHealth(HttpConnection& c) {
  c.PollShards([](shard::Shard&) { return std::string(); }, kHealthTimeoutMs,
               [&c](HttpConnection::PollResults& results) {
                 size_t up = 0;
                 for (const auto& r : results) up += r.has_value();
                 Response resp;
                 if (up == results.size()) {
                   resp.body = absl::StrFormat("{\"status\":\"ok\",\"shards\":%d}", up);
                 } else {
                   resp.status = 503;
                   resp.body = absl::StrFormat(
                       "{\"status\":\"unavailable\",\"shards\":%d,\"shards_answering\":%d}",
                       results.size(), up);
                 }
                 c.Respond(std::move(resp));
               });
}

void HandleMetrics(HttpConnection& c) {
  c.RunCommands({{"INFO", "everything"}}, [&c](HttpConnection::Replies& r) {
    if (r[0].is_error()) return c.Respond(ErrorResponse(503, r[0].str));
    std::string info = std::move(r[0].str);
    c.PollShards(ShardFigures, kMetricsPollTimeoutMs,
                 [&c, info = std::move(info)](HttpConnection::PollResults& shards) {
                   Response resp;
                   resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
                   resp.body = PrometheusText(info, shards, HttpConnectionCount());
                   c.Respond(std::move(resp));
                 });
  });
}

}  // namespace shoal::http
