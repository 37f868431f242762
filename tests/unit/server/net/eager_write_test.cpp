#include "server/net/eager_write.hpp"

#include <doctest/doctest.h>

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/unit/server/loopback_link.hpp"

namespace svcproxy::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// The proxy's end writes; the test's end reads.
struct Pair {
  explicit Pair(LoopbackLink link)
      : writer(std::move(link.inside)), reader(std::move(link.outside)) {}
  tcp::socket writer;
  tcp::socket reader;
};

Pair connected_pair(asio::io_context& context) {
  return Pair(make_loopback_link(context));
}

std::string pattern(std::size_t size, char seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    text[i] = static_cast<char>(seed + i % 23);
  return text;
}

}  // namespace

TEST_CASE("send_now sends every piece at once when the socket has room") {
  asio::io_context context;
  Pair pair = connected_pair(context);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", body = "ok";
  const std::array<asio::const_buffer, 2> pieces{asio::buffer(head), asio::buffer(body)};
  const WriteProgress progress = send_now(pair.writer, pieces);
  CHECK_FALSE(progress.error);
  CHECK(progress.written == head.size() + body.size());
  CHECK(finished(progress, pieces));
  std::string received(head.size() + body.size(), '\0');
  asio::read(pair.reader, asio::buffer(received));
  CHECK(received == head + body);
}

TEST_CASE("a write larger than the socket buffer: send_now takes part, write_rest the rest") {
  asio::io_context context;
  Pair pair = connected_pair(context);
  const std::string first = pattern(8 << 20, 'a'), second = pattern(3 << 20, 'A');
  const std::array<asio::const_buffer, 2> pieces{asio::buffer(first), asio::buffer(second)};
  const WriteProgress now = send_now(pair.writer, pieces);
  REQUIRE_FALSE(now.error);
  CHECK(now.written > 0);
  CHECK(now.written < first.size());  // the buffer filled and send_now did not wait
  REQUIRE_FALSE(finished(now, pieces));

  WriteProgress total;
  std::string received;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> { total = co_await write_rest(pair.writer, pieces, now); },
      asio::detached);
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        char chunk[65536];
        while (received.size() < first.size() + second.size()) {
          auto [error, n] = co_await pair.reader.async_read_some(
              asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
          if (error) break;
          received.append(chunk, n);
        }
      },
      asio::detached);
  context.run_for(20s);
  CHECK_FALSE(total.error);
  CHECK(total.written == first.size() + second.size());
  CHECK(received == first + second);  // in order, nothing sent twice
}

TEST_CASE("send_now reports a connection the peer reset instead of waiting") {
  asio::io_context context;
  Pair pair = connected_pair(context);
  pair.reader.set_option(asio::socket_base::linger(true, 0));
  pair.reader.close();
  const std::string text = "late";
  const std::array<asio::const_buffer, 1> pieces{asio::buffer(text)};
  WriteProgress progress;
  for (int i = 0; i < 100 && !progress.error; ++i) {  // the RST may take a moment to land
    progress = send_now(pair.writer, pieces);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(progress.error == asio::error::connection_reset);  // and no SIGPIPE killed the test
}

}  // namespace svcproxy::server
