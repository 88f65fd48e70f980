//! Derive macros for Quarry. Use them through the `quarry` crate:
//! `#[derive(quarry::FromRow)]`.

#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr, Path, parse_macro_input};

/// Derive `FromRow` for a struct: one column per field, in order.
///
/// Named fields are matched by name: the column at the field's position is
/// used when its name matches (one comparison per field), otherwise the
/// column of that name among the struct's columns, so a select list in a
/// different order still decodes. Tuple structs decode by position.
///
/// Field attributes:
/// - `#[quarry(rename = "sql_name")]`: the column's name differs from the field's.
/// - `#[quarry(flatten)]`: the field is itself `FromRow` and reads its own
///   run of columns (`(User, Option<Post>)`-style nesting inside a struct).
///
/// Container attribute `#[quarry(crate = "path")]` names the crate that
/// exports `FromRow` (default `::quarry`; use `quarry_core` when depending on
/// the core crate alone).
#[proc_macro_derive(FromRow, attributes(quarry))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match from_row(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct FieldSpec {
    column: String,
    flatten: bool,
}

fn field_spec(field: &syn::Field, default_name: String) -> syn::Result<FieldSpec> {
    let mut spec = FieldSpec { column: default_name, flatten: false };
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("quarry")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                spec.column = meta.value()?.parse::<LitStr>()?.value();
                Ok(())
            } else if meta.path.is_ident("flatten") {
                spec.flatten = true;
                Ok(())
            } else {
                Err(meta.error("expected `rename = \"...\"` or `flatten`"))
            }
        })?;
    }
    Ok(spec)
}

fn crate_path(input: &DeriveInput) -> syn::Result<Path> {
    let mut path: Path = syn::parse_quote!(::quarry);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("quarry")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                path = meta.value()?.parse::<LitStr>()?.parse()?;
                Ok(())
            } else {
                Err(meta.error("expected `crate = \"path\"`"))
            }
        })?;
    }
    Ok(path)
}

fn from_row(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = crate_path(input)?;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "FromRow can be derived for structs only"));
    };
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    let mut widths = Vec::new(); // how many columns each field reads
    let mut reads = Vec::new(); // the expression decoding each field
    let named = matches!(data.fields, Fields::Named(_));
    for field in &data.fields {
        let ty = &field.ty;
        let default_name = field.ident.as_ref().map(|i| i.to_string().trim_start_matches("r#").to_owned());
        let spec = field_spec(field, default_name.unwrap_or_default())?;
        // The field's position: the widths of the fields before it.
        let position = quote! { 0 #(+ #widths)* };
        let read = if spec.flatten {
            quote! { <#ty as #krate::FromRow>::from_row_at(row, offset + (#position))? }
        } else if named {
            let column = &spec.column;
            quote! {{
                let index = #krate::row::field_index(row, offset, #position, <Self as #krate::FromRow>::COLUMNS, #column)?;
                #krate::Row::get::<#ty>(row, index)?
            }}
        } else {
            quote! { #krate::Row::get::<#ty>(row, offset + (#position))? }
        };
        reads.push(match &field.ident {
            Some(ident) => quote! { #ident: #read },
            None => read,
        });
        widths.push(if spec.flatten {
            quote! { <#ty as #krate::FromRow>::COLUMNS }
        } else {
            quote! { 1 }
        });
    }
    let construct = match &data.fields {
        Fields::Named(_) => quote! { #name { #(#reads),* } },
        Fields::Unnamed(_) => quote! { #name ( #(#reads),* ) },
        Fields::Unit => quote! { #name },
    };
    // `#[inline]`: decoded inside the driver's row loop, the struct is
    // written where the loop puts it rather than returned and copied.
    Ok(quote! {
        impl #impl_generics #krate::FromRow for #name #ty_generics #where_clause {
            const COLUMNS: usize = 0 #(+ #widths)*;

            #[inline]
            fn from_row_at<R: #krate::Row + ?Sized>(row: &R, offset: usize) -> ::core::result::Result<Self, #krate::Error> {
                ::core::result::Result::Ok(#construct)
            }
        }
    })
}
