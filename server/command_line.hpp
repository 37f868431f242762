// svcproxy's flags: --config PATH (repeatable), --check, --log-level, --version, --help.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/log/log.hpp"

namespace svcproxy::server {

struct CommandLine {
  std::vector<std::string> config_paths;
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
