"""The `jingzhun demo` scenario: one county walked through a year of the campaign."""
