//! cinder.conf: the oslo.config dialect (`oslo`), which files are read (`files`), the option
//! table (`options`), the typed settings svcctl takes from it (`settings`), and hints for an
//! unset connection (`hints`).

pub mod files;
mod hints;
mod options;
pub mod oslo;
pub mod settings;

pub use files::ConfigSource;
pub use settings::{DatabaseSettings, Overrides, Settings, load};
