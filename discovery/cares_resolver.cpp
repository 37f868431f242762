// DnsResolver on c-ares, driven by Asio: c-ares tells us which sockets it wants watched
// (ARES_OPT_SOCK_STATE_CB); each is wrapped, without taking ownership, in a
// posix::stream_descriptor and waited on; a steady_timer drives c-ares' retransmissions.
#include <ares.h>
#include <arpa/inet.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>
#include <stdexcept>

#include "discovery/dns_resolver.hpp"

namespace svcproxy::discovery {
namespace {
namespace asio = boost::asio;

constexpr int kClassIn = 1;
constexpr int kTypeA = 1;
constexpr int kTypeAaaa = 28;
constexpr int kTimeoutMs = 1000;  // per try; well under the shortest refresh (1 s floor) x 2
constexpr int kTries = 2;
constexpr int kMaxAddresses = 256;

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

DnsResult result_of(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return DnsResult::Success;
    case ARES_ENOTFOUND:
      return DnsResult::NxDomain;
    case ARES_ENODATA:
      return DnsResult::Empty;
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
      return DnsResult::Timeout;
    default:  // SERVFAIL, REFUSED, FORMERR, a bad reply, ...
      return DnsResult::ServFail;
  }
}

template <typename Ttl>
void append(const Ttl* ttls, int count, int family, std::vector<DnsAddress>& out) {
  char text[INET6_ADDRSTRLEN];
  for (int i = 0; i < count; ++i) {
    const void* raw = nullptr;
    if constexpr (std::is_same_v<Ttl, ares_addrttl>)
      raw = &ttls[i].ipaddr;
    else
      raw = &ttls[i].ip6addr;
    if (!inet_ntop(family, raw, text, sizeof text)) continue;
    out.push_back({text, std::chrono::seconds(std::max(0, ttls[i].ttl))});
  }
}

FamilyAnswer parse(bool ipv6, int status, const unsigned char* reply, int length) {
  FamilyAnswer answer;
  if (status == ARES_SUCCESS) {
    int count = kMaxAddresses;
    if (ipv6) {
      ares_addr6ttl ttls[kMaxAddresses];
      status = ares_parse_aaaa_reply(reply, length, nullptr, ttls, &count);
      if (status == ARES_SUCCESS) append(ttls, count, AF_INET6, answer.addresses);
    } else {
      ares_addrttl ttls[kMaxAddresses];
      status = ares_parse_a_reply(reply, length, nullptr, ttls, &count);
      if (status == ARES_SUCCESS) append(ttls, count, AF_INET, answer.addresses);
    }
  }
  answer.result = result_of(status);
  if (answer.result == DnsResult::Success && answer.addresses.empty())
    answer.result = DnsResult::Empty;
  return answer;
}

// One lookup: an A and an AAAA query joined.
struct Pending {
  DnsResolver::Handler handler;
  DnsLookup lookup;
  int remaining = 2;
  asio::io_context* io = nullptr;
};

struct Query {
  std::shared_ptr<Pending> pending;
  bool ipv6 = false;
};

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* reply, int length) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  auto pending = query->pending;
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) pending->lookup.cancelled = true;
  (query->ipv6 ? pending->lookup.ipv6 : pending->lookup.ipv4) =
      parse(query->ipv6, status, reply, length);
  if (--pending->remaining > 0) return;
  // c-ares may answer from inside ares_search or ares_destroy: always defer.
  asio::post(*pending->io, [pending] { pending->handler(std::move(pending->lookup)); });
}

class CaresResolver final : public DnsResolver {
 public:
  explicit CaresResolver(asio::io_context& io) : io_(io), timer_(io) {
    init_library_once();
    if (auto error = create_channel({}); !error.empty()) throw std::runtime_error(error);
  }
  ~CaresResolver() override { destroy_channel(); }

  std::string set_servers(const std::vector<std::string>& servers) override {
    // ares_set_servers_* refuses while queries are pending, and cannot go back to
    // resolv.conf: a fresh channel does both.
    return create_channel(servers);
  }

  void resolve(const std::string& name, Handler handler) override {
    auto pending = std::make_shared<Pending>(Pending{std::move(handler), {}, 2, &io_});
    for (const bool ipv6 : {false, true})
      ares_search(channel_, name.c_str(), kClassIn, ipv6 ? kTypeAaaa : kTypeA, &on_answer,
                  new Query{pending, ipv6});
    schedule_timeout();
  }

 private:
  // A socket c-ares opened. The descriptor never owns it: c-ares closes it, after telling
  // us (state 0, 0), when we release it.
  struct Socket {
    Socket(asio::io_context& io, int fd) : descriptor(io, fd), fd(fd) {}
    asio::posix::stream_descriptor descriptor;
    int fd;
    bool want_read = false;
    bool want_write = false;
    bool read_armed = false;
    bool write_armed = false;
    bool closed = false;
  };
  using SocketPtr = std::shared_ptr<Socket>;

  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable) {
    static_cast<CaresResolver*>(self)->socket_state(fd, readable != 0, writable != 0);
  }

  void socket_state(int fd, bool readable, bool writable) {
    auto found = sockets_.find(fd);
    if (!readable && !writable) {
      if (found == sockets_.end()) return;
      found->second->closed = true;
      found->second->descriptor.release();  // cancels our waits; c-ares closes the fd
      sockets_.erase(found);
      return;
    }
    if (found == sockets_.end())
      found = sockets_.emplace(fd, std::make_shared<Socket>(io_, fd)).first;
    found->second->want_read = readable;
    found->second->want_write = writable;
    arm(found->second);
  }

  void arm(const SocketPtr& socket) {
    if (socket->want_read && !socket->read_armed) {
      socket->read_armed = true;
      socket->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                    [this, alive = alive(), socket](boost::system::error_code ec) {
                                      socket->read_armed = false;
                                      if (ec || socket->closed || alive.expired()) return;
                                      ares_process_fd(channel_, socket->fd, ARES_SOCKET_BAD);
                                      after_processing(socket);
                                    });
    }
    if (socket->want_write && !socket->write_armed) {
      socket->write_armed = true;
      socket->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                    [this, alive = alive(), socket](boost::system::error_code ec) {
                                      socket->write_armed = false;
                                      if (ec || socket->closed || alive.expired()) return;
                                      ares_process_fd(channel_, ARES_SOCKET_BAD, socket->fd);
                                      after_processing(socket);
                                    });
    }
  }

  void after_processing(const SocketPtr& socket) {
    if (!socket->closed) arm(socket);
    schedule_timeout();
  }

  // c-ares' next retransmission or timeout, if any query is pending.
  void schedule_timeout() {
    timeval storage{};
    const timeval* next = ares_timeout(channel_, nullptr, &storage);
    if (!next) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(next->tv_sec) +
                         std::chrono::microseconds(next->tv_usec));
    timer_.async_wait([this, alive = alive()](boost::system::error_code ec) {
      if (ec || alive.expired()) return;
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      schedule_timeout();
    });
  }

  std::string create_channel(const std::vector<std::string>& servers) {
    ares_options options{};
    options.sock_state_cb = &CaresResolver::on_socket_state;
    options.sock_state_cb_data = this;
    options.timeout = kTimeoutMs;
    options.tries = kTries;
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    ares_channel channel = nullptr;
    int status = ares_init_options(&channel, &options, mask);
    if (status != ARES_SUCCESS) return std::string("c-ares: ") + ares_strerror(status);
    if (!servers.empty()) {
      std::string csv;
      for (const auto& server : servers)
        csv += (csv.empty() ? "" : ",") + server;
      status = ares_set_servers_ports_csv(channel, csv.c_str());
      if (status != ARES_SUCCESS) {
        ares_destroy(channel);
        return "dnsServers " + csv + ": " + ares_strerror(status);
      }
    }
    destroy_channel();
    channel_ = channel;
    return {};
  }

  void destroy_channel() {
    if (!channel_) return;
    ares_destroy(channel_);  // pending queries answer `cancelled`; sockets report closed
    channel_ = nullptr;
    timer_.cancel();
  }

  std::weak_ptr<char> alive() const { return alive_; }

  asio::io_context& io_;
  asio::steady_timer timer_;
  ares_channel channel_ = nullptr;
  std::map<int, SocketPtr> sockets_;
  // Handlers queued on io_ check this, so none touches the resolver after it is destroyed.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace

std::unique_ptr<DnsResolver> make_cares_resolver(asio::io_context& io) {
  return std::make_unique<CaresResolver>(io);
}

}  // namespace svcproxy::discovery
