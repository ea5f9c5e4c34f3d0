// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip {

/// One `name[=value]` of a parameter list. Views into the message buffer.
struct param {
    std::string_view name;
    std::string_view value;  ///< without quotes removed; empty when has_value is false
    bool has_value = false;
};

/// A `;name=value;name` list as it stands in a URI or a header (the text after the first ';').
/// Parameters are found on demand; names compare case-insensitively (RFC 3261 §19.1.4, §7.3.1).
/// The list was validated when the value holding it was parsed.
class param_list {
public:
    constexpr param_list() noexcept = default;
    /// `text` starts right after the ';' that opens the list (or is empty).
    constexpr explicit param_list(std::string_view text) noexcept : text_(text) {}

    /// The first parameter named `name`, or a param with empty name when there is none.
    [[nodiscard]] param find(std::string_view name) const noexcept;
    /// Whether a parameter named `name` is present, with or without value.
    [[nodiscard]] bool has(std::string_view name) const noexcept { return !find(name).name.empty(); }
    [[nodiscard]] constexpr std::string_view text() const noexcept { return text_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return text_.empty(); }

    /// Calls f(param) for each parameter in order; stops early when f returns false.
    template <class F>
    void for_each(F&& f) const {
        std::string_view rest = text_;
        while (!rest.empty()) {
            param p = next(rest);
            if (!f(p)) return;
        }
    }

    /// Pops the first parameter off `rest` (advancing it past the next top-level ';').
    [[nodiscard]] static param next(std::string_view& rest) noexcept;

private:
    std::string_view text_;
};

/// ASCII case-insensitive equality, for names, schemes and tokens.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

} // namespace sipfast::sip
