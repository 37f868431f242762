// svcproxy: Kubernetes Service networking without a cluster.
#include <csignal>
#include <iostream>

#include "cluster/etcd_client.hpp"
#include "cluster/object_store.hpp"
#include "conf/loader.hpp"
#include "discovery/check_report.hpp"
#include "server/cluster_commands.hpp"
#include "server/command_line.hpp"
#include "server/control/proxy.hpp"
#include "server/log/log.hpp"

using namespace svcproxy;

namespace {

// --check: every error as FILE:LINE:COL: field.path: message, or one line per port.
int check(const conf::LoadResult& loaded) {
  for (const auto& warning : loaded.warnings)
    std::cerr << "warning: " << warning.to_string() << "\n";
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors)
      std::cout << error.describe() << "\n";
    return 1;
  }
  std::cout << discovery::format_check_report(*loaded.snapshot);
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::string error;
  const auto options = server::parse_command_line(argc, argv, error);
  if (!options) {
    std::cerr << "svcproxy: " << error << "\n\n" << server::kUsage;
    return 2;
  }
  if (options->help) {
    std::cout << server::kUsage;
    return 0;
  }
  if (options->version) {
    std::cout << "svcproxy " << SVCPROXY_VERSION << "\n";
    return 0;
  }
  server::set_log_level(options->log_level);
  // A peer that closes early must not kill the process on the next write.
  std::signal(SIGPIPE, SIG_IGN);
  if (options->command != server::CommandLine::Command::Serve)
    return server::run_cluster_command(*options);

  conf::DocumentCache documents;
  conf::LoadResult loaded =
      conf::load_files(options->config_paths, options->check ? nullptr : &documents);
  if (options->check) return check(loaded);
  for (const auto& warning : loaded.warnings)
    server::log(server::LogLevel::Warn, warning.to_string());
  if (!loaded.ok()) {
    for (const auto& failure : loaded.errors)
      server::log(server::LogLevel::Error, failure.describe());
    server::log(server::LogLevel::Error, "configuration rejected: ", loaded.errors.size(),
                " errors");
    return 1;
  }
  // Cluster mode: --etcd, else the ProxyConfig's etcd.endpoints.
  std::vector<cluster::EtcdEndpoint> etcd;
  const auto& etcd_urls =
      options->etcd.empty() ? loaded.snapshot->proxy.etcd.endpoints : options->etcd;
  if (!etcd_urls.empty()) {
    if (auto problem = cluster::unsupported_service_cidr(loaded.snapshot->proxy)) {
      server::log(server::LogLevel::Error, *problem);
      return 1;
    }
    auto parsed = cluster::parse_etcd_endpoints(etcd_urls, error);
    if (!parsed) {
      server::log(server::LogLevel::Error, error);
      return 1;
    }
    etcd = std::move(*parsed);
  }
  server::Proxy proxy(options->config_paths, std::move(*loaded.snapshot), std::move(documents),
                      std::move(etcd));
  return proxy.run();
}
