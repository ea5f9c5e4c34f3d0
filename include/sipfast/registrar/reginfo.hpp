// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

/// Why a contact is reported (RFC 3680 §5.2, the event attribute of <contact>).
enum class contact_event : std::uint8_t {
    registered,    ///< a REGISTER added it
    created,       ///< made by administrative action (not by a REGISTER)
    refreshed,     ///< a REGISTER moved its expiry later, or left it as it was
    shortened,     ///< a REGISTER moved its expiry earlier
    expired,       ///< it lapsed
    deactivated,   ///< its user agent should register again (not made by sipfast)
    probation,     ///< as deactivated, later (not made by sipfast)
    unregistered,  ///< a REGISTER removed it (expires=0, or `Contact: *`)
    rejected,      ///< refused by policy (not made by sipfast)
};

/// The attribute value RFC 3680 §5.3's schema names the event by.
[[nodiscard]] std::string_view event_name(contact_event e) noexcept;

/// One contact as a reginfo document reports it: the binding (live, or as it was when it ended),
/// whether it is active or terminated, and why it is reported.
struct contact_report {
    const binding* b = nullptr;
    bool active = true;
    contact_event event = contact_event::registered;
};

/// A stable id for an address-of-record or a binding, the same across restarts (FNV-1a of its key):
/// RFC 3680 §5.3's id attributes, which a watcher matches partial documents by.
[[nodiscard]] std::uint64_t registration_id(std::string_view aor) noexcept;
[[nodiscard]] std::uint64_t contact_id(const binding& b) noexcept;

/// Full state (RFC 3680 §5.2): every binding of `now_list` live at `now_ns`, active, registered.
void full_state(const binding_list& now_list, std::uint64_t now_ns, std::vector<contact_report>& out);

/// What changed from `before` (as it was reported, at `before_ns`) to `after` (at `now_ns`), for a
/// partial document: a binding live now and not then is registered; live then and now with another
/// expiry is refreshed or shortened; live then and not now is expired when its own expiry has come,
/// else unregistered (a REGISTER took it out early). Bindings are matched as the registrar matches
/// them (the instance and reg-id when there is an instance, else the Contact URI). `out` views into
/// the lists, which the caller keeps.
void changes(const binding_list& before, std::uint64_t before_ns, const binding_list& after, std::uint64_t now_ns,
             std::vector<contact_report>& out);

/// The state of the <registration> element (RFC 3680 §5.1): init (no binding ever reported in this
/// document and none live), active (one live at least), terminated (the last one went).
enum class registration_state : std::uint8_t { init, active, terminated };

/// One application/reginfo+xml document.
struct reginfo_doc {
    std::uint32_t version = 0;
    bool full = true;
    std::string_view aor;                       ///< the registration's aor attribute (a URI)
    std::span<const std::string> identities;    ///< more <registration>s, same contacts: the implicit set
    registration_state state = registration_state::init;
    std::span<const contact_report> contacts;
    std::uint64_t now_ns = 0;                   ///< for the expires attribute of active contacts
};

/// Writes `d` (RFC 3680 §5.3) into `w`; false when it did not fit. Text from the wire (URIs) is
/// escaped as XML attribute and element content.
[[nodiscard]] bool write_reginfo(core::text_writer& w, const reginfo_doc& d) noexcept;

} // namespace sipfast::registrar
