#include "server/command_line.hpp"

#include <string_view>

namespace svcproxy::server {

const char* const kUsage =
    "usage: svcproxy --config PATH [--config PATH...] [--check] [--log-level LEVEL]\n"
    "       svcproxy [--config node.yaml] --etcd URL[,URL...]    (a node in cluster mode)\n"
    "       svcproxy apply -f PATH [-f PATH...] --etcd URL[,URL...] [--prefix /registry]\n"
    "       svcproxy delete -f PATH [-f PATH...] --etcd URL[,URL...] [--ignore-not-found]\n"
    "\n"
    "Serves Kubernetes Services (ClusterIP, NodePort, LoadBalancer) from the YAML you would\n"
    "kubectl apply, plus one svcproxy.io/v1 ProxyConfig.\n"
    "\n"
    "  --config PATH      a YAML file or a directory of *.yaml/*.yml files (repeatable)\n"
    "  --check            validate, print one line per service port, and exit\n"
    "  --etcd URLS        cluster mode: the state lives in etcd (http://host:port, "
    "comma-separated)\n"
    "  -f PATH            apply/delete: a manifest file or directory (repeatable)\n"
    "  --prefix PREFIX    the etcd key prefix (default /registry)\n"
    "  --log-level LEVEL  debug | info | warn | error (default info)\n"
    "  --version          print the version and exit\n"
    "  --help             print this help and exit\n"
    "\n"
    "Signals: SIGHUP reloads, SIGTERM/SIGINT drain and exit, SIGUSR1 reopens the access log.\n";

namespace {

// "--flag=value" or "--flag value"; advances `index` past what it consumed.
bool take_value(std::string_view arg, std::string_view flag, int argc, const char* const argv[],
                int& index, std::string& value, std::string& error) {
  if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=') {
    value = std::string(arg.substr(flag.size() + 1));
    return true;
  }
  if (index + 1 >= argc) {
    error = std::string(flag) + " needs a value";
    return false;
  }
  value = argv[++index];
  return true;
}

bool is_flag(std::string_view arg, std::string_view flag) {
  return arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
                         arg[flag.size()] == '=');
}

}  // namespace

std::optional<CommandLine> parse_command_line(int argc, const char* const argv[],
                                              std::string& error) {
  CommandLine options;
  int first = 1;
  if (argc > 1 && std::string_view(argv[1]) == "apply") {
    options.command = CommandLine::Command::Apply;
    first = 2;
  } else if (argc > 1 && std::string_view(argv[1]) == "delete") {
    options.command = CommandLine::Command::Delete;
    first = 2;
  }
  const bool cluster_command = options.command != CommandLine::Command::Serve;
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string value;
    if (cluster_command && (is_flag(arg, "-f") || is_flag(arg, "--filename"))) {
      const std::string_view flag = arg.starts_with("--") ? "--filename" : "-f";
      if (!take_value(arg, flag, argc, argv, i, value, error)) return std::nullopt;
      options.files.push_back(value);
    } else if (is_flag(arg, "--etcd")) {
      if (!take_value(arg, "--etcd", argc, argv, i, value, error)) return std::nullopt;
      options.etcd.push_back(value);
    } else if (is_flag(arg, "--prefix")) {
      if (!take_value(arg, "--prefix", argc, argv, i, value, error)) return std::nullopt;
      options.prefix = value;
    } else if (cluster_command && arg == "--ignore-not-found") {
      options.ignore_not_found = true;
    } else if (arg == "--check") {
      options.check = true;
    } else if (arg == "--version") {
      options.version = true;
    } else if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (is_flag(arg, "--config")) {
      if (!take_value(arg, "--config", argc, argv, i, value, error)) return std::nullopt;
      options.config_paths.push_back(value);
    } else if (is_flag(arg, "--log-level")) {
      if (!take_value(arg, "--log-level", argc, argv, i, value, error)) return std::nullopt;
      if (!parse_log_level(value, options.log_level)) {
        error = "unknown log level '" + value + "' (debug, info, warn, error)";
        return std::nullopt;
      }
    } else {
      error = "unknown argument '" + std::string(arg) + "'";
      return std::nullopt;
    }
  }
  if (options.help || options.version) return options;
  if (cluster_command) {
    if (options.files.empty()) {
      error = std::string(options.command == CommandLine::Command::Apply ? "apply" : "delete") +
              " needs -f PATH";
      return std::nullopt;
    }
    if (options.etcd.empty()) {
      error = "--etcd URL is required";
      return std::nullopt;
    }
    return options;
  }
  if (options.config_paths.empty() && options.etcd.empty()) {
    error = "--config is required (or --etcd for a node in cluster mode)";
    return std::nullopt;
  }
  return options;
}

}  // namespace svcproxy::server
