//! The HTML side of Cameo. For now the home page; accounts and uploads come with their issue.

pub mod home;
