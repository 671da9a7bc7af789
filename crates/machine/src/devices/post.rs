//! The POST diagnostic port: firmware writes a code there as it passes each
//! step of its power-on self test, so that a card on the bus (or a person
//! watching one) sees how far it got. test386 writes its test numbers to
//! port 0x190 this way (its `POST_PORT`).

use super::{Ctx, Device};
use crate::decode::Width;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostPort {
    /// The codes written, oldest first.
    pub codes: Vec<u8>,
}

impl Device for PostPort {
    /// A POST card only listens: the port reads all ones, as an empty one.
    fn read(&mut self, _addr: u32, _width: Width, _ctx: &mut Ctx) -> u32 {
        u32::MAX
    }

    /// Takes the low byte of what is written.
    fn write(&mut self, _addr: u32, _width: Width, value: u32, _ctx: &mut Ctx) {
        self.codes.push(value as u8);
    }
}
