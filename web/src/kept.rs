//! A panel kept as it was last rendered: the page skips building the views
//! of panels out of view while the machine runs (see
//! [`crate::session::Session::renders_panel`]), and this component is what
//! lets it leave their DOM untouched.

use yew::prelude::*;

#[derive(Properties)]
pub struct KeptProps {
    /// The render at which `content` was last built. Equal serials are
    /// equal props, so Yew neither renders the panel again nor touches
    /// its DOM.
    pub serial: u64,
    /// The panel, built at `serial` (empty when it was not built now).
    pub content: Html,
}

impl PartialEq for KeptProps {
    fn eq(&self, other: &KeptProps) -> bool {
        self.serial == other.serial
    }
}

#[function_component(Kept)]
pub fn kept(props: &KeptProps) -> Html {
    props.content.clone()
}

use osviz_course::Panel;

/// The render each panel was last built at, and the panels the last
/// render showed, in order.
#[derive(Default)]
pub struct Serials {
    now: u64,
    built: std::collections::HashMap<Panel, u64>,
    order: Vec<Panel>,
    /// Whether this render shows other panels, or in another order, than
    /// the one before: then every panel is built.
    reordered: bool,
}

impl Serials {
    /// Starts a render of the page that shows `order`.
    pub fn next_render(&mut self, order: &[Panel]) {
        self.now += 1;
        self.reordered = self.order != order;
        if self.reordered {
            self.order = order.to_vec();
        }
    }

    /// The serial to give `panel`'s [`Kept`] in this render, and whether
    /// to build it now: when `build` asks, when it never was, and when the
    /// panels shown changed (projector mode, its choice of panels), since a
    /// [`Kept`] mounted or moved then is not sure to have anything to keep.
    pub fn of(&mut self, panel: Panel, build: bool) -> (u64, bool) {
        match self.built.get(&panel) {
            Some(&at) if !build && !self.reordered => (at, false),
            _ => {
                self.built.insert(panel, self.now);
                (self.now, true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Serials;
    use osviz_course::Panel;

    #[test]
    fn a_panel_not_built_keeps_its_serial_until_the_panels_shown_change() {
        let normal = [Panel::Code, Panel::Tlb];
        let projector = [Panel::Code];
        let mut s = Serials::default();
        s.next_render(&normal);
        assert_eq!(
            s.of(Panel::Code, false),
            (1, true),
            "never built: built now"
        );
        assert_eq!(s.of(Panel::Tlb, false), (1, true));
        s.next_render(&normal);
        assert_eq!(s.of(Panel::Code, false), (1, false), "kept from render 1");
        assert_eq!(s.of(Panel::Tlb, true), (2, true));
        s.next_render(&normal);
        assert_eq!(s.of(Panel::Tlb, false), (2, false));
        // Projector mode without the TLB, then back: both renders build
        // every panel they show, out of view or not.
        s.next_render(&projector);
        assert_eq!(s.of(Panel::Code, false), (4, true));
        s.next_render(&normal);
        assert_eq!(s.of(Panel::Code, false), (5, true));
        assert_eq!(s.of(Panel::Tlb, false), (5, true));
        s.next_render(&normal);
        assert_eq!(s.of(Panel::Tlb, false), (5, false));
    }
}
