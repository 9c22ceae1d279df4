//! The output budget: how much text one tool result may carry, so a single call cannot flood
//! the model's context.

/// Approximate token budget of one tool result.
pub const TOKEN_BUDGET: usize = 12_500;

/// The character budget for `TOKEN_BUDGET` at `chars_per_token`.
pub const fn budget_chars(chars_per_token: usize) -> usize {
    TOKEN_BUDGET * chars_per_token
}
