//! Placeholder; see the SMS issue.
