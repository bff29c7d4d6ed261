//! cinder.conf: the oslo.config dialect and the settings svcctl takes from it.

pub mod oslo;
pub mod settings;

pub use settings::{ConfigSource, DatabaseSettings, Overrides, Settings, load};
