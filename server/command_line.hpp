// svcproxy's flags: --config PATH (repeatable), --check, --etcd, --log-level, --version,
// --help; and the cluster commands `apply -f PATH --etcd URL` and `delete -f PATH --etcd URL`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/log/log.hpp"

namespace svcproxy::server {

struct CommandLine {
  enum class Command { Serve, Apply, Delete };
  Command command = Command::Serve;
  std::vector<std::string> config_paths;
  std::vector<std::string> files;  // apply/delete -f
  std::vector<std::string> etcd;   // --etcd, each a URL or a comma-separated list
  std::string prefix;              // --prefix; empty: the ProxyConfig's, else /registry
  bool ignore_not_found = false;
  bool check = false;
  bool version = false;
  bool help = false;
  LogLevel log_level = LogLevel::Info;
};

// nullopt with `error` set for unknown flags, missing values or a missing --config.
std::optional<CommandLine> parse_command_line(int argc, const char* const argv[],
                                              std::string& error);

extern const char* const kUsage;

}  // namespace svcproxy::server
