// Sockets made non-blocking by the kernel call that creates them (accept4(2), socket(2)
// with SOCK_NONBLOCK) and handed to Asio already in that state.
//
// Why: Asio creates and accepts blocking descriptors, then spends an ioctl(FIONBIO) on each
// before its first asynchronous operation; it also treats every adopted descriptor as a
// possible dup(2) and pays an epoll_ctl(DEL) before closing it. On a new connection per
// request those are three of about 28 system calls, and Asio's connect completion adds a
// poll(2) of its own. Measured with `strace -c` on an L4 `Connection: close` load; HAProxy
// makes 18.
//
// How: the socket's state flags live in Asio's implementation object, reached through the
// protected member of basic_socket (a pointer to member taken in a derived class, which the
// language allows). Only Boost 1.81's reactive (epoll) sockets are touched; any other Asio
// gets plain assign() and behaves as before.
// Thread affinity: none; call on the thread that owns the socket's io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <string>

namespace svcproxy::server {

// Takes ownership of `fd`, a connected or connecting TCP socket opened with O_NONBLOCK that
// no other descriptor shares. Closes `fd` and returns a closed socket on failure.
boost::asio::ip::tcp::socket adopt_nonblocking(const boost::asio::any_io_executor& executor,
                                               const boost::asio::ip::tcp& protocol, int fd,
                                               boost::system::error_code& error);

// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC. Returns the descriptor, or -1 with `error`
// set (would_block when the backlog is empty).
int accept_nonblocking(int listening_fd, boost::asio::ip::tcp::endpoint& peer,
                       boost::system::error_code& error);

// A non-blocking TCP socket for an upstream connection, with TCP_NODELAY and TCP_INQ
// (see drained_read.hpp) set before it connects. Returns -1 with `error` on failure.
int open_upstream_socket(const boost::asio::ip::tcp& protocol, boost::system::error_code& error);

// Peer shutdown from epoll itself, so a read can be plain recv(2).
//
// Why: a read that empties the socket must say so, or Asio's reactor tries the next read
// speculatively and mostly meets EAGAIN (drained_read.hpp). TCP_INQ says it in-band but
// needs recvmsg(2) and a control message: on the L4 keep-alive relay that read path cost
// 2.26 us per request against HAProxy's 1.43 with recvfrom(2) (perf, same load). A short
// recv(2) also empties the socket, except when the peer's FIN came with the last bytes:
// no new readiness edge follows, so the read must not wait. Epoll reports that FIN as
// EPOLLRDHUP once the socket asks for it, and the reactor keeps the last event's flags
// for the socket until the next one, which is what peer_shutdown_seen() reads.
//
// watch_peer_shutdown() adds EPOLLRDHUP to a registered socket's epoll entry: free when
// watch_peer_shutdown_later() came first and the reactor has since changed the entry
// itself (it adds EPOLLOUT to wait for a connect), one epoll_ctl(2) otherwise. False where
// that is refused or Asio is not Boost 1.81's epoll reactor: the caller keeps TCP_INQ.
bool watch_peer_shutdown(boost::asio::ip::tcp::socket& socket);

// Puts EPOLLRDHUP into the reactor's copy of a just-registered socket's events, no system
// call: the reactor's next epoll_ctl(2) for it carries the flag.
void watch_peer_shutdown_later(boost::asio::ip::tcp::socket& socket);

// The reactor's record of a socket, taken when an operation starts.
struct ReactorRecord {
  const void* state = nullptr;
};
ReactorRecord reactor_record(boost::asio::ip::tcp::socket& socket);

// Whether the socket's last readiness event carried EPOLLRDHUP, EPOLLHUP or EPOLLERR:
// after a short read, bytes may still be followed by an end of stream or an error.
bool peer_shutdown_seen(ReactorRecord record);

// Whether a read on `socket` may find bytes now: false only when the reactor knows the
// socket is drained (the last read said so, drained_read.hpp, and no readiness edge came
// since). Then waiting for readability (async_wait, no buffer) cannot miss bytes that came
// already, and an idle connection holds no read buffer while it waits. True where that
// cannot be known (any Asio but Boost 1.81's epoll reactor): the caller reads with a
// buffer, as before.
bool may_be_readable(boost::asio::ip::tcp::socket& socket);

// One non-blocking read on the caller's turn, for a socket whose readiness wait just
// completed: the bytes without the trip through the scheduler that an async read takes
// (it posts even a completion it had at once). When the read leaves the socket drained
// (TCP_INQ), the reactor is told, as by its own drained read, so may_be_readable() says
// false again until new bytes raise an edge. Returns the bytes read; 0 with `error` eof at
// the end of the stream, would_block when there was nothing after all, or another error.
std::size_t receive_now(boost::asio::ip::tcp::socket& socket, boost::asio::mutable_buffer buffer,
                        boost::system::error_code& error);

// A client's "ip" and "ip:port" ("[ip]:port" for IPv6), for balancing by client and the
// access log. IPv4 is formatted by hand: inet_ntop(3) goes through printf, which showed in
// the profile of a new connection per request.
struct PeerAddress {
  std::string ip;
  std::string ip_port;
};
PeerAddress describe_peer(const boost::asio::ip::tcp::endpoint& peer);

// close(2), ignoring errors: for sockets whose peer no longer matters.
void close_quietly(boost::asio::ip::tcp::socket& socket);

// Closes with an RST (SO_LINGER 0), so the peer learns the connection failed rather than
// finished.
void reset_connection(boost::asio::ip::tcp::socket& socket);

}  // namespace svcproxy::server
