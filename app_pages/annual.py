from app_pages._scores_view import render

render("annual")
