// The one gate for code that reaches into Boost.Asio's private reactor internals: the
// draining receive (drained_read.hpp), splice(2) operations (splice_pipe.hpp), the
// lending relay read (l4/tcp_relay.cpp) and the socket state and readiness tricks of
// native_socket.cpp. They specialise detail:: classes of Boost 1.81's epoll reactor and
// read its private members, which another Boost release may change without notice, so
// SVCPROXY_ASIO_INTERNALS is set only for exactly that reactor; everything else builds
// the portable path (plain Asio operations: more recv(2) calls, no splice), which CI
// builds and tests too (cmake -DSVCPROXY_ASIO_INTERNALS=OFF).
#pragma once

#include <boost/asio/detail/config.hpp>
#include <boost/version.hpp>

#if !defined(SVCPROXY_NO_ASIO_INTERNALS) && BOOST_VERSION == 108100 && defined(__linux__) && \
    !defined(BOOST_ASIO_DISABLE_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define SVCPROXY_ASIO_INTERNALS 1
#endif
