use crate::api;
use crate::driver::{self, Flow, Io};

pub struct Worker;

impl driver::Worker for Worker {
    async fn step(&mut self, io: &mut Io) -> Flow {
        api::health(io).await;
        Flow::Continue
    }
}
