// Precompiled for the server target only: conf/, lb/ and discovery/ must stay free of Beast.
#pragma once
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
