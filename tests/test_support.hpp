#pragma once

// The project's tests use the same helpers as users' tests do (asp::testing).
#include <asp/testing/fixture.hpp>
#include <asp/testing/golden.hpp>
