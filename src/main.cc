// shoal-server: wires configuration, shards, commands and listeners together.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <thread>

#include "commands/register.h"
#include "common/clock.h"
#include "common/logging.h"
#include "http/http_server.h"
#include "protocol/resp_parser.h"
#include "script/busy.h"
#include "net/connection.h"
#include "net/listener.h"
#include "server/command_table.h"
#include "server/server_state.h"
#include "durability/aof_manager.h"
#include "persist/snapshot_file.h"
#include "server/write_log.h"
#include "snapshot/rdb_load.h"
#include "snapshot/save_points.h"
#include "snapshot/snapshotter.h"
#include "server/thread_state.h"
#include "shard/shard_set.h"

namespace {

using shoal::server::ServerState;

constexpr char kShoalVersion[] = "0.1.0";

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (char& c : s) c = kHex[rng() % 16];
  return s;
}

const std::map<std::string, std::string>& OptionHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"port", "TCP port to listen on (default 6379)"},
      {"bind", "Addresses to listen on, space-separated (default 127.0.0.1)"},
      {"threads", "Shard threads; 0 means one per usable core (default 0)"},
      {"databases", "Number of logical databases (default 16)"},
      {"loglevel", "debug, verbose, notice or warning (default notice)"},
      {"maxclients", "Maximum simultaneous clients (default 10000)"},
      {"proto-max-bulk-len", "Largest bulk string accepted (default 512mb)"},
      {"client-query-buffer-limit", "Largest unparsed input per client (default 1gb)"},
      {"redis-version", "Redis version reported to clients (default 7.0.15)"},
      {"http-port", "HTTP/JSON API port (default 8080; 0 disables it)"},
      {"http-bind", "Addresses for the HTTP API (default: the same as --bind)"},
      {"http-max-body-bytes", "Largest HTTP request body (default 1mb; larger: 413)"},
      {"http-max-header-bytes", "Largest HTTP request line + headers (default 64kb; 431)"},
      {"http-timeout", "Seconds for an HTTP request to arrive completely (default 10; 408)"},
      {"http-keepalive-timeout", "Seconds before an idle HTTP connection closes (default 60)"},
      {"http-cors-origins", "CORS: allowed origins, comma-separated, or * (default none)"},
      {"http-cors-methods", "CORS: methods allowed in preflight answers"},
      {"http-cors-headers", "CORS: request headers allowed in preflight answers"},
  };
  return *help;
}

// Closes every connection this shard serves. Runs on the shard's thread after its loop stops.
void CloseShardConnections(shoal::shard::Shard&) {
  auto& clients = shoal::server::ThreadState::Get().clients;
  std::vector<shoal::server::Client*> all(clients.begin(), clients.end());
  for (auto* c : all) static_cast<shoal::net::Connection*>(c)->DestroyAtShutdown();
}

}  // namespace

int main(int argc, char** argv) {
  ServerState& state = ServerState::Get();
  shoal::server::Config& config = state.config;

  CLI::App app{"Shoal: a shared-nothing, multi-threaded server that speaks the Redis protocol."};
  app.set_version_flag("-v,--version", std::string("shoal-server ") + kShoalVersion);
  std::string config_file;
  app.add_option("config_file", config_file, "redis.conf-style file (same as --config)");
  app.add_option("--config", config_file, "redis.conf-style file with supported directives");
  // Every config parameter is also a flag, as with redis-server (--save "" --appendonly no).
  std::map<std::string, std::string> flag_values;
  for (const std::string& name : config.Names()) {
    auto it = OptionHelp().find(name);
    std::string help = it != OptionHelp().end() ? it->second : "Same as the redis.conf directive";
    // As with redis-server, a repeated option takes its last value (wrappers append overrides).
    app.add_option("--" + name, flag_values[name], help)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (!config_file.empty()) {
    shoal::Status s = config.LoadFile(config_file);
    if (!s.ok()) {
      fprintf(stderr, "Fatal error, can't open or parse config file: %s\n", s.message().c_str());
      return 1;
    }
    state.config_file = config_file;
  }
  for (const std::string& name : config.Names()) {
    if (app.count("--" + name) == 0) continue;
    shoal::Status s = config.Set(name, flag_values[name], /*at_startup=*/true);
    if (!s.ok()) {
      fprintf(stderr, "Invalid value for --%s: %s\n", name.c_str(), s.message().c_str());
      return 1;
    }
  }
  shoal::LogLevel level;
  if (shoal::ParseLogLevel(config.GetString("loglevel"), &level)) shoal::SetLogLevel(level);

  // "One per core" means the cores this process may run on (taskset, cgroups), not the machine's.
  cpu_set_t allowed;
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    cores = std::max(1, CPU_COUNT(&allowed));
  }
  size_t threads = static_cast<size_t>(config.threads.load());
  if (threads == 0) threads = cores;
  if (threads > cores) {
    SHOAL_LOG(kWarning,
              "%d shard threads on %d usable cores: hand-overs between shards will cost context "
              "switches; --threads %d is usually faster",
              threads, cores, cores);
  }
  config.threads.store(static_cast<int64_t>(threads));

  // Signals are taken by sigwait() in this thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  state.start_time_us = shoal::UnixTimeUs();
  state.run_id = RandomHex(40);
  state.executable = argv[0];
  state.lastsave_unix = state.start_time_us / 1000000;
  static std::atomic<bool> user_shutdown{false};
  state.request_shutdown = [] {
    user_shutdown = true;
    kill(getpid(), SIGTERM);
  };
  shoal::cmd::RegisterAllCommands(shoal::server::GlobalCommandTable());

  // Open every shard's listening sockets before starting, so a taken port fails start-up.
  int port = static_cast<int>(config.port.load());
  std::vector<std::string> hosts;
  std::vector<std::string> bind_parts;
  shoal::protocol::SplitInlineArgs(config.GetString("bind"), &bind_parts);
  for (const std::string& h : bind_parts) hosts.push_back(h);
  if (hosts.empty()) hosts.push_back("127.0.0.1");
  for (const std::string& host : hosts) {
    shoal::Status free = shoal::net::CheckPortFree(host, port);
    if (!free.ok()) {
      SHOAL_LOG(kWarning, "%s", free.message());
      return 1;
    }
  }
  std::vector<std::vector<int>> listen_fds(threads);
  for (size_t i = 0; i < threads; ++i) {
    for (const std::string& host : hosts) {
      shoal::Result<int> fd = shoal::net::OpenListenSocket(host, port);
      if (!fd.ok()) {
        SHOAL_LOG(kWarning, "%s", fd.status().message());
        return 1;
      }
      listen_fds[i].push_back(*fd);
    }
  }

  // The HTTP API's sockets too: a taken HTTP port is as fatal as a taken RESP port.
  shoal::http::HttpServer http;
  shoal::Status http_status = http.OpenSockets(threads, hosts);
  if (!http_status.ok()) {
    SHOAL_LOG(kWarning, "%s", http_status.message());
    return 1;
  }

  shoal::shard::ShardSet shards(threads, static_cast<int>(config.databases.load()));
  state.shards = &shards;
  state.changes.Resize(threads);

  // Saves cut short by a crash leave temp files behind; they are never loaded, only removed.
  shoal::persist::RemoveStaleTempFiles(config.GetString("dir"));
  shoal::persist::RemoveStaleTempFiles(config.GetString("dir") + "/" +
                                       config.GetString("appenddirname"));
  // Expired keys are logged as DELs when the append-only file is on (server/write_log.h).
  for (size_t i = 0; i < threads; ++i) {
    for (int db = 0; db < shards.shard(i).num_dbs(); ++db) {
      shards.shard(i).db(db).set_expired_hook(&shoal::server::WriteLog::ExpiredKey,
                                              reinterpret_cast<void*>(static_cast<intptr_t>(db)));
    }
  }
  // With appendonly yes the append-only file is the dataset (dump.rdb is not read, as in Redis):
  // its base now, its incr files once the shards run.
  const bool aof = config.GetString("appendonly") == "yes";
  auto& aof_manager = shoal::durability::AofManager::Get();
  if (aof) {
    int64_t keys = 0;
    shoal::Status s = aof_manager.LoadBase(shards, &keys);
    if (!s.ok()) {
      SHOAL_LOG(kWarning, "Fatal error loading the append-only file: %s. Exiting.", s.message());
      return 1;
    }
    if (keys > 0) SHOAL_LOG(kNotice, "AOF base loaded: %lld keys", static_cast<long long>(keys));
  }
  // The last snapshot, before anyone can connect: a damaged file stops start-up, never a partial
  // dataset served.
  if (!aof) {
    std::string rdb = config.GetString("dir") + "/" + config.GetString("dbfilename");
    shoal::snapshot::LoadStats loaded;
    int64_t start_ms = shoal::UnixTimeMs();
    shoal::Status s = shoal::snapshot::LoadRdbFile(rdb, shards, &loaded);
    if (!s.ok()) {
      SHOAL_LOG(kWarning, "Fatal error loading the DB %s: %s. Exiting.", rdb, s.message());
      return 1;
    }
    if (loaded.found) {
      SHOAL_LOG(kNotice, "DB loaded from disk: %.3f seconds, %lld keys (%lld expired, skipped)",
                (shoal::UnixTimeMs() - start_ms) / 1000.0, static_cast<long long>(loaded.loaded),
                static_cast<long long>(loaded.expired));
      shoal::snapshot::Snapshotter::Get().RecordLoad(loaded.loaded, loaded.expired,
                                                     shoal::UnixTimeMs() / 1000);
      state.lastsave_unix = shoal::UnixTimeMs() / 1000;
    } else {
      shoal::snapshot::Snapshotter::Get().RecordLoad(0, 0, state.lastsave_unix.load());
    }
  }
  http.CreateListeners(shards);
  std::vector<std::vector<std::unique_ptr<shoal::net::Listener>>> listeners(threads);
  for (size_t i = 0; i < threads; ++i) {
    for (int fd : listen_fds[i]) {
      listeners[i].push_back(std::make_unique<shoal::net::Listener>(fd, &shards.shard(i)));
    }
  }
  // A busy script's thread keeps answering its other clients (BUSY, SCRIPT KILL).
  shoal::script::SetBusyPoller(shoal::net::ServeConnectionsWhileBusy);
  // Clients come in only once the dataset is whole (after the AOF replay, when there is one).
  auto open_doors = [&listeners, &http](shoal::shard::Shard& s) {
    for (auto& l : listeners[s.id()]) l->Start();
    http.StartOn(s);
  };
  shards.Start(
      [&open_doors, aof](shoal::shard::Shard& s) {
        if (!aof) open_doors(s);
        s.loop().AddTimer(1000, shoal::net::CloseIdleConnections);
        // Save points and scheduled BGSAVEs: checked ten times a second, as Redis's serverCron.
        if (s.id() == 0) {
          s.loop().AddTimer(100, [&s] {
            shoal::snapshot::Snapshotter::Get().Cron(s);
            shoal::durability::AofManager::Get().Cron(s);
          });
        }
      },
      [](shoal::shard::Shard& s) {
        CloseShardConnections(s);
        shoal::http::HttpServer::CloseConnectionsOn(s);
      });
  if (aof) {
    shoal::Status s = aof_manager.ReplayIncrs(shards);
    shoal::snapshot::Snapshotter::Get().ForgetChanges();
    if (s.ok()) s = aof_manager.StartLogging(shards);
    if (!s.ok()) {
      SHOAL_LOG(kWarning, "Fatal error loading the append-only file: %s. Exiting.", s.message());
      shards.StopAndJoin();
      return 1;
    }
    for (size_t i = 0; i < threads; ++i) {
      shards.shard(i).Post([&open_doors, &shards, i] { open_doors(shards.shard(i)); });
    }
  }
  SHOAL_LOG(kNotice, "Shoal %s (Redis %s compatible), pid %d, %d shard threads", kShoalVersion,
            config.GetString("redis-version"), getpid(), threads);
  SHOAL_LOG(kNotice, "Ready to accept connections tcp on port %d", port);
  if (http.enabled()) {
    SHOAL_LOG(kNotice, "HTTP API on port %d", config.http_port.load());
  }

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (user_shutdown) {
      SHOAL_LOG(kWarning, "User requested shutdown...");
    } else {
      SHOAL_LOG(kWarning, "Received %s scheduling shutdown...",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    shoal::script::AbortScriptsForShutdown();  // A busy script would hold its thread forever.
    // With save points set, a signal saves first (SHUTDOWN has saved, or said NOSAVE, itself).
    std::vector<shoal::snapshot::SavePoint> points;
    shoal::snapshot::ParseSavePoints(config.GetString("save"), &points);
    if (state.shutdown_skip_save || points.empty()) break;
    SHOAL_LOG(kNotice, "Saving the final RDB snapshot before exiting.");
    shoal::Status saved = shoal::snapshot::Snapshotter::Get().SaveForShutdown(shards);
    if (saved.ok()) break;
    SHOAL_LOG(kWarning, "Error trying to save the DB, can't exit: %s", saved.message());
    SHOAL_LOG(kWarning, "SIGTERM received but errors trying to shut down the server, check the "
                        "logs for more information");
  }
  shards.StopAndJoin();
  shoal::snapshot::Snapshotter::Get().AbandonAfterStop(shards);
  // Every shard pushed its last writes as its loop ended: flush and fsync them.
  shoal::Status closed = aof_manager.StopLogging();
  if (!closed.ok()) SHOAL_LOG(kWarning, "Error closing the append-only file: %s", closed.message());
  listeners.clear();
  SHOAL_LOG(kNotice, "Shoal is now ready to exit, bye bye...");
  return 0;
}
