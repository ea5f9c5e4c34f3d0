// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>
#include <type_traits>

#include "sipfast/sip/name_addr.hpp"
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip {

/// A header value the parser indexes but does not decode: the forwarding path never reads it, so
/// it is decoded on first use and kept (docs/architecture.md, "What the parser decodes"). T is
/// name_addr (From, To) or contact (the first Contact value). A message is read by one thread, so
/// the cache needs no lock; it holds views into the same buffer as the message.
template <class T>
class on_demand {
public:
    on_demand() noexcept {}  // value_ is left unformed: see below
    explicit on_demand(std::string_view value) noexcept : text(value) {}

    std::string_view text;  ///< the header value as the parser indexed it (a list, for Contact)

    /// The decoded value (the first one of a list), or nullptr when it is malformed: error() then
    /// names the fault. Later calls return the same without decoding again.
    [[nodiscard]] const T* get() const noexcept {
        if (state_ == state::unknown) decode();
        return state_ == state::decoded ? &value_ : nullptr;
    }
    /// Back to a default-constructed one's state; the cache stays unformed.
    void reset() noexcept {
        text = {};
        error_ = parse_error::none;
        state_ = state::unknown;
    }
    /// parse_error::none, or why get() gives nullptr.
    [[nodiscard]] parse_error error() const noexcept {
        if (state_ == state::unknown) decode();
        return error_;
    }

private:
    enum class state : unsigned char { unknown, decoded, malformed };
    void decode() const noexcept;

    // Formed by decode() alone: the parser clears its message on every call, and a cleared cache
    // would cost it as much as the bytes it skips decoding. T is trivially copyable and
    // destructible, so on_demand stays so too.
    union {
        mutable T value_;
    };
    mutable parse_error error_ = parse_error::none;
    mutable state state_ = state::unknown;
};

static_assert(std::is_trivially_copyable_v<name_addr> && std::is_trivially_destructible_v<contact>);
extern template class on_demand<name_addr>;
extern template class on_demand<contact>;

/// From or To: the tag is found as the message is parsed, since transactions and dialogs key on
/// it; the address is decoded on first use.
struct party : on_demand<name_addr> {
    using on_demand<name_addr>::on_demand;
    std::string_view tag;  ///< the tag parameter, empty when absent

    void reset() noexcept {
        on_demand<name_addr>::reset();
        tag = {};
    }
};

} // namespace sipfast::sip
