//! placeholder
#[derive(Debug, clap::Args)]
pub struct Args {}
pub async fn run(_a: Args, _c: &crate::Context) -> anyhow::Result<()> {
    Ok(())
}
