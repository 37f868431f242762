// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/cluster_commands.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>

#include "cluster/etcd_client.hpp"
#include "cluster/object_store.hpp"
#include "conf/loader.hpp"
#include "conf/manifest_json.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

void print_errors(const conf::Diagnostics& errors) {
  for (const auto& error : errors)
    std::cerr << error.describe() << "\n";
}

awaitable<int> run(cluster::EtcdClient& client, const cluster::StoreSettings& settings,
                   const CommandLine& options, const conf::Snapshot& snapshot,
                   const std::vector<conf::ManifestObject>& objects) {
  const bool applying = options.command == CommandLine::Command::Apply;
  if (applying) {
    // Written ClusterIPs and NodePorts another Service holds: reported before any write.
    auto conflicts =
        co_await cluster::find_allocation_conflicts(client, settings, snapshot.services);
    if (!conflicts.empty()) {
      print_errors(conflicts);
      co_return 1;
    }
  }
  int exit_code = 0;
  for (const auto& object : objects) {
    if (!cluster::stored_kind(object.kind)) continue;  // ProxyConfig: node-local
    // One branch per co_await: GCC 12 miscompiles co_await inside a conditional expression.
    cluster::StoreReport report;
    if (applying)
      report = co_await cluster::apply_object(client, settings, object);
    else
      report = co_await cluster::delete_object(client, settings, object);
    switch (report.outcome) {
      case cluster::StoreOutcome::Failed:
        std::cerr << (report.error ? report.error->to_string() : report.line()) << "\n";
        exit_code = 1;
        break;
      case cluster::StoreOutcome::NotFound:
        if (!options.ignore_not_found) {
          std::cerr << report.line() << "\n";
          exit_code = 1;
        }
        break;
      default:
        std::cout << report.line() << std::endl;
    }
  }
  co_return exit_code;
}

}  // namespace

int run_cluster_command(const CommandLine& options) {
  std::string error;
  auto endpoints = cluster::parse_etcd_endpoints(options.etcd, error);
  if (!endpoints) {
    std::cerr << "svcproxy: " << error << "\n";
    return 2;
  }
  conf::LoadResult loaded = conf::load_files(options.files);
  for (const auto& warning : loaded.warnings)
    std::cerr << "warning: " << warning.to_string() << "\n";
  if (!loaded.ok()) {
    print_errors(loaded.errors);
    return 1;
  }
  conf::Diagnostics read_errors;
  const std::vector<conf::ManifestObject> objects =
      conf::read_manifest_objects(options.files, read_errors);
  if (!read_errors.empty()) {
    print_errors(read_errors);
    return 1;
  }
  const conf::ProxySettings& proxy = loaded.snapshot->proxy;
  if (auto problem = cluster::unsupported_service_cidr(proxy)) {
    std::cerr << "svcproxy: " << *problem << "\n";
    return 1;
  }
  const std::string prefix = options.prefix.empty() ? proxy.etcd.prefix : options.prefix;
  const cluster::StoreSettings settings = cluster::store_settings(proxy, prefix);

  asio::io_context io;
  cluster::EtcdClient client(
      io.get_executor(), std::move(*endpoints),
      std::chrono::duration_cast<std::chrono::milliseconds>(proxy.etcd.request_timeout));
  int exit_code = 1;
  asio::co_spawn(io, run(client, settings, options, *loaded.snapshot, objects),
                 [&](std::exception_ptr failure, int code) {
                   if (failure) {
                     try {
                       std::rethrow_exception(failure);
                     } catch (const std::exception& e) {
                       std::cerr << "svcproxy: " << e.what() << "\n";
                     }
                     return;
                   }
                   exit_code = code;
                 });
  io.run();
  return exit_code;
}

}  // namespace svcproxy::server
