// SPDX-License-Identifier: Apache-2.0
// How every sipfast command line ends: --help and --version print and exit 0, a usage error names
// the program and exits 2. Shared by the daemon (sipfastd, sipfastctl) and the tools (sipfast-parse)
// through cli_dep (src/meson.build).
#pragma once

#include <iostream>
#include <optional>
#include <string_view>

#include <CLI/CLI.hpp>

namespace sipfast::cli {

/// Parses the command line into `app`'s options; an exit status when the program must stop now.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, std::string_view program) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForVersion& e) {  // --version: the text set_version_flag was given
        std::cout << e.what() << '\n';
        return 0;
    } catch (const CLI::ParseError& e) {
        std::cerr << program << ": " << e.what() << "\nRun with --help for usage.\n";
        return 2;
    }
    return std::nullopt;
}

} // namespace sipfast::cli
