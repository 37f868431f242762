// A non-owning reference to a callable, for arguments that are only called during the
// call they are passed to. Unlike std::function it never allocates and never copies the
// callable, so building one per pick is free; the referenced callable must outlive it.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace svcproxy::lb {

template <typename Signature>
class FunctionRef;

template <typename Result, typename... Args>
class FunctionRef<Result(Args...)> {
 public:
  // A plain function: called through its pointer.
  FunctionRef(Result (*function)(Args...)) : call_(&call_function) {  // NOLINT: implicit
    target_.function = function;
  }

  // A lambda or other function object, referenced where it lives.
  template <typename Callable>
  requires(!std::is_same_v<std::remove_cvref_t<Callable>, FunctionRef> &&
           !std::is_function_v<std::remove_reference_t<Callable>> &&
           std::is_invocable_r_v<Result, Callable&, Args...>)
      FunctionRef(Callable&& callable)  // NOLINT: implicit, like std::function
      : call_(&call_object<std::remove_reference_t<Callable>>) {
    target_.object = const_cast<void*>(static_cast<const void*>(std::addressof(callable)));
  }

  Result operator()(Args... args) const { return call_(target_, std::forward<Args>(args)...); }

 private:
  union Target {
    void* object;
    Result (*function)(Args...);
  };

  static Result call_function(Target target, Args... args) {
    return target.function(std::forward<Args>(args)...);
  }
  template <typename Callable>
  static Result call_object(Target target, Args... args) {
    return (*static_cast<Callable*>(target.object))(std::forward<Args>(args)...);
  }

  Target target_;
  Result (*call_)(Target, Args...);
};

}  // namespace svcproxy::lb
