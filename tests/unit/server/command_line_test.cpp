#include "server/command_line.hpp"

#include <doctest/doctest.h>

using svcproxy::server::parse_command_line;

TEST_CASE("--config is repeatable and takes both spellings") {
  const char* argv[] = {"svcproxy", "--config", "a.yaml", "--config=dir/", "--check"};
  std::string error;
  const auto options = parse_command_line(5, argv, error);
  REQUIRE(options);
  CHECK(options->config_paths == std::vector<std::string>{"a.yaml", "dir/"});
  CHECK(options->check);
}

TEST_CASE("--log-level accepts known levels only") {
  const char* good[] = {"svcproxy", "--config", "a", "--log-level", "debug"};
  std::string error;
  const auto options = parse_command_line(5, good, error);
  REQUIRE(options);
  CHECK(options->log_level == svcproxy::server::LogLevel::Debug);

  const char* bad[] = {"svcproxy", "--config", "a", "--log-level", "loud"};
  CHECK_FALSE(parse_command_line(5, bad, error));
  CHECK(error == "unknown log level 'loud' (debug, info, warn, error)");
}

TEST_CASE("missing --config, a missing value and unknown flags are errors") {
  std::string error;
  const char* none[] = {"svcproxy"};
  CHECK_FALSE(parse_command_line(1, none, error));
  CHECK(error == "--config is required (or --etcd for a node in cluster mode)");
  const char* dangling[] = {"svcproxy", "--config"};
  CHECK_FALSE(parse_command_line(2, dangling, error));
  CHECK(error == "--config needs a value");
  const char* unknown[] = {"svcproxy", "--config", "a", "--fast"};
  CHECK_FALSE(parse_command_line(4, unknown, error));
  CHECK(error == "unknown argument '--fast'");
}

TEST_CASE("--version and --help need no config") {
  std::string error;
  const char* version[] = {"svcproxy", "--version"};
  CHECK(parse_command_line(2, version, error)->version);
  const char* help[] = {"svcproxy", "--help"};
  CHECK(parse_command_line(2, help, error)->help);
}

TEST_CASE("a node in cluster mode needs only --etcd") {
  std::string error;
  const char* node[] = {"svcproxy", "--etcd", "http://a:2379,http://b:2379"};
  const auto options = parse_command_line(3, node, error);
  REQUIRE(options);
  CHECK(options->command == svcproxy::server::CommandLine::Command::Serve);
  CHECK(options->etcd == std::vector<std::string>{"http://a:2379,http://b:2379"});
}

TEST_CASE("apply and delete take -f (repeatable) and need --etcd") {
  using Command = svcproxy::server::CommandLine::Command;
  std::string error;
  const char* apply[] = {
      "svcproxy", "apply", "-f", "a.yaml", "--filename=dir/", "--etcd=http://e:2379",
      "--prefix", "/r"};
  const auto options = parse_command_line(8, apply, error);
  REQUIRE(options);
  CHECK(options->command == Command::Apply);
  CHECK(options->files == std::vector<std::string>{"a.yaml", "dir/"});
  CHECK(options->prefix == "/r");
  const char* remove[] = {"svcproxy",          "delete", "-f", "a.yaml", "--etcd", "e",
                          "--ignore-not-found"};
  const auto deleting = parse_command_line(7, remove, error);
  REQUIRE(deleting);
  CHECK(deleting->command == Command::Delete);
  CHECK(deleting->ignore_not_found);
  const char* no_etcd[] = {"svcproxy", "apply", "-f", "a.yaml"};
  CHECK_FALSE(parse_command_line(4, no_etcd, error));
  CHECK(error == "--etcd URL is required");
  const char* no_file[] = {"svcproxy", "delete", "--etcd", "e"};
  CHECK_FALSE(parse_command_line(4, no_file, error));
  CHECK(error == "delete needs -f PATH");
  const char* stray[] = {"svcproxy", "--config", "a", "-f", "b"};
  CHECK_FALSE(parse_command_line(5, stray, error));
}
