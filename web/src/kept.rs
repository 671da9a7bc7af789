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

/// The render serial each panel was last built at.
#[derive(Default)]
pub struct Serials {
    now: u64,
    built: std::collections::HashMap<String, u64>,
}

impl Serials {
    /// Starts a render of the page.
    pub fn next_render(&mut self) {
        self.now += 1;
    }

    /// The serial to give `panel`'s [`Kept`]: this render's when it is
    /// built now, or when it never was (a panel's first render always
    /// builds it); else the one it was built at.
    pub fn of(&mut self, panel: &str, build: bool) -> (u64, bool) {
        match self.built.get(panel) {
            Some(&at) if !build => (at, false),
            _ => {
                self.built.insert(panel.to_string(), self.now);
                (self.now, true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Serials;

    #[test]
    fn a_panel_not_built_keeps_its_serial_and_one_never_built_is_built() {
        let mut s = Serials::default();
        s.next_render();
        assert_eq!(s.of("TLB", false), (1, true), "never built: built now");
        s.next_render();
        assert_eq!(s.of("TLB", false), (1, false), "kept from render 1");
        s.next_render();
        assert_eq!(s.of("TLB", true), (3, true));
        s.next_render();
        assert_eq!(s.of("TLB", false), (3, false));
        assert_eq!(s.of("Code", true), (4, true));
    }
}
