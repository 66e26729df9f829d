#include "http/metrics.h"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

TEST(MetricsTest, InfoTextBecomesPrometheusText) {
  std::string info =
      "# Server\r\nuptime_in_seconds:12\r\n# Clients\r\nconnected_clients:3\r\n"
      "# Memory\r\nused_memory:1000\r\n# Stats\r\ntotal_commands_processed:7\r\n"
      "# Commandstats\r\ncmdstat_get:calls=5,usec=250,usec_per_call=50.00,rejected_calls=0,"
      "failed_calls=1\r\n# Errorstats\r\nerrorstat_ERR:count=2\r\n"
      "# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=0\r\n";
  HttpConnection::PollResults shards{std::string("5 3 9 2 200=4 404=1"), std::nullopt};
  std::string text = PrometheusText(info, shards, 6);
  for (const char* line : {
           "# TYPE shoal_uptime_seconds gauge\nshoal_uptime_seconds 12\n",
           "shoal_connected_clients{protocol=\"resp\"} 3\n",
           "shoal_connected_clients{protocol=\"http\"} 6\n",
           "shoal_used_memory_bytes 1000\n",
           "shoal_commands_processed_total 7\n",
           "shoal_command_calls_total{cmd=\"get\"} 5\n",
           "shoal_command_failed_calls_total{cmd=\"get\"} 1\n",
           "shoal_command_duration_seconds_sum{cmd=\"get\"} 0.000250\n",
           "shoal_command_duration_seconds_count{cmd=\"get\"} 5\n",
           "shoal_errors_total{code=\"ERR\"} 2\n",
           "shoal_db_keys{db=\"0\"} 4\n",
           "shoal_db_expiring_keys{db=\"0\"} 1\n",
           "shoal_shard_commands_processed_total{shard=\"0\"} 5\n",
           "shoal_shard_keys{shard=\"0\"} 3\n",
           "shoal_shard_up{shard=\"0\"} 1\n",
           "shoal_shard_up{shard=\"1\"} 0\n",
           "shoal_http_connections_accepted_total 2\n",
           "shoal_http_responses_total{code=\"200\"} 4\n",
           "shoal_http_responses_total{code=\"404\"} 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n---\n" << text;
  }
  EXPECT_EQ(text.find("shoal_shard_keys{shard=\"1\"}"), std::string::npos);  // No answer.
}

}  // namespace
}  // namespace shoal::http
